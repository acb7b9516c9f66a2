"""The token counts the context engine remembers stay exact and bounded: a typing
session makes a new prompt text at every keystroke, and memory must not grow with it."""

from __future__ import annotations

from pathlib import Path

from llama_cpp import Llama

from edgewise.context.tokens import TokenCounter, line_chunks

SOURCE = Path(__file__).read_text("utf-8")


def test_remembered_tokens_are_exact_and_bounded_by_bytes(tiny_model: Path) -> None:
    llm = Llama(str(tiny_model), vocab_only=True, verbose=False)

    def tokenize(text: str) -> list[int]:
        return llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    budget = 200_000
    counter = TokenCounter(tokenize, max_bytes=budget)
    # the tiny model's merges cross line ends: whole texts are remembered, not lines
    assert counter.by_lines is False
    texts = [SOURCE[:i] + "x" + SOURCE[i:] for i in range(0, len(SOURCE), 7)]
    for text in texts:  # a keystroke each: a new whole text every time
        assert counter.encode(text) == tokenize(text)
        assert counter.count(text[:80]) == len(tokenize(text[:80]))
    assert counter._tokens.bytes <= budget and counter._counts.bytes <= budget
    assert len(counter._tokens) < len(texts), "the oldest texts were let go"
    again = texts[-1]  # the latest is still remembered, and still exact
    assert counter._tokens.get(again) is not None
    assert counter.encode(again) == tokenize(again)


def test_a_tokenizer_that_never_merges_across_lines_is_remembered_line_by_line() -> None:
    def tokenize(text: str) -> list[int]:  # byte-level, no merges: lines tokenize alone
        return list(text.encode("utf-8"))

    budget = 20_000
    counter = TokenCounter(tokenize, max_bytes=budget)
    assert counter.by_lines is True
    texts = [SOURCE[:i] + "x" + SOURCE[i:] for i in range(0, len(SOURCE), 7)]
    for text in texts:
        assert counter.encode(text) == tokenize(text)
    assert counter._tokens.bytes <= budget
    again = texts[-1]  # its lines are remembered, the whole text is not
    assert counter._tokens.get(again) is None
    assert all(counter._tokens.get(chunk) is not None for chunk in line_chunks(again))
    assert counter.encode(again) == tokenize(again)
