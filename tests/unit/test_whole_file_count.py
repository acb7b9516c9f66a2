"""The whole-file token count never holds up an answer while the user types in a big
file, and stays exact: a count is reported only for the very text it counted."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry
from edgewise.report.whole_file import GRACE_SECONDS, WholeFileCounter


class SlowTokenizer:
    """A tokenizer that takes ``seconds`` per text (a stand-in for a 10,000-line file),
    one token per character; it records how many texts it counted."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0
        self.lock = threading.Lock()

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        with self.lock:
            self.calls += 1
        time.sleep(self.seconds)
        return [0] * len(text)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))


def test_typing_in_a_slow_to_count_file_never_waits_and_counts_are_exact() -> None:
    store = DocumentStore(LanguageRegistry())
    tokenizer = SlowTokenizer(seconds=8 * GRACE_SECONDS)
    counter = WholeFileCounter()

    async def run() -> None:
        doc = store.open("file:///big.py", "x = 1\n")
        first = counter.start(tokenizer, doc)  # type: ignore[arg-type]
        assert first is not None
        assert await first.future == 6
        again = counter.start(tokenizer, doc)  # type: ignore[arg-type]
        assert await counter.result(again) == 6, "the same text: the cached count"
        waits = []
        for key in "abcdef":  # typing: a new text every keystroke
            store.sync(doc.uri, doc.text + key)
            began = time.monotonic()
            counted = await counter.result(counter.start(tokenizer, doc))  # type: ignore[arg-type]
            waits.append(time.monotonic() - began)
            assert counted is None or counted == len(doc.text), "never a stale count"
        assert max(waits) < GRACE_SECONDS, "no answer waited for a count"
        assert tokenizer.calls == 1, "no new count right after a slow one"
        await asyncio.sleep(3 * tokenizer.seconds)  # a pause: counting resumes
        running = counter.start(tokenizer, doc)  # type: ignore[arg-type]
        assert running is not None
        assert await running.future == len(doc.text)

    asyncio.run(run())


def test_the_embedded_backend_counts_a_whole_file_exactly(tiny_model: Path) -> None:
    """The count the report uses is the tokenizer's own, without building the list (on
    the vocabulary the server keeps; the weights live in the model process)."""
    from edgewise.model.llama import LlamaBackend

    backend = LlamaBackend.load_vocab(tiny_model)
    try:
        text = "def f(x):\n    return x * 2  # é 😀\n" * 2000
        assert backend.count_tokens(text) == len(backend.tokenize(text)) > 2000
        assert backend.count_tokens("") == 0 == len(backend.tokenize(""))
    finally:
        backend.close()
