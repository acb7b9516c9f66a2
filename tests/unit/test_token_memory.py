"""The token counts the context engine remembers stay exact and bounded: a typing
session makes a new prompt text at every keystroke, and memory must not grow with it."""

from __future__ import annotations

from pathlib import Path

from llama_cpp import Llama

from edgewise.context.tokens import TokenCounter

SOURCE = Path(__file__).read_text("utf-8")


def test_remembered_tokens_are_exact_and_bounded_by_bytes(tiny_model: Path) -> None:
    llm = Llama(str(tiny_model), vocab_only=True, verbose=False)

    def tokenize(text: str) -> list[int]:
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    budget = 200_000
    counter = TokenCounter(tokenize, max_bytes=budget)
    texts = [SOURCE[:i] + "x" + SOURCE[i:] for i in range(0, len(SOURCE), 7)]
    for text in texts:  # a keystroke each: a new whole text every time
        assert counter.encode(text) == tokenize(text)
        assert counter.count(text[:80]) == len(tokenize(text[:80]))
    assert counter._tokens.bytes <= budget and counter._counts.bytes <= budget
    assert len(counter._tokens) < len(texts), "the oldest texts were let go"
    again = texts[-1]  # the latest is still remembered, and still exact
    assert counter._tokens.get(again) is not None or counter.by_lines
    assert counter.encode(again) == tokenize(again)
