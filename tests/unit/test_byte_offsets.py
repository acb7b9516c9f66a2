"""Character and LSP positions to the UTF-8 byte offsets tree-sitter counts in: one
conversion (context/positions.py) for completions, code actions and diagnostics."""

from __future__ import annotations

import pytest

from edgewise.context.positions import Pos, byte_range, utf8_len, utf8_span

TEXT = "names = ['é', '🙂']\r\ndef f(x):  # ünï\n    return x\n"


def test_a_character_span_is_the_same_text_in_bytes():
    data = TEXT.encode("utf-8")
    for start, end in [(0, 5), (10, 17), (12, 20), (21, 30), (0, len(TEXT)), (7, 7)]:
        a, b = utf8_span(TEXT, start, end)
        assert data[a:b].decode("utf-8") == TEXT[start:end]


@pytest.mark.parametrize(
    ("encoding", "emoji_end"),
    [("utf-16", 17), ("utf-8", 20), ("utf-32", 16)],  # the column after '🙂' in each
)
def test_an_lsp_range_in_each_encoding_is_the_same_text_in_bytes(encoding, emoji_end):
    data = TEXT.encode("utf-8")
    a, b = byte_range(TEXT, Pos(0, 0), Pos(0, emoji_end), encoding)
    assert data[a:b].decode("utf-8") == "names = ['é', '🙂"
    a, b = byte_range(TEXT, Pos(1, 4), Pos(2, 10), encoding)
    assert data[a:b].decode("utf-8") == "f(x):  # ünï\n    return"


def test_a_range_past_the_line_end_stops_before_the_line_break():
    a, b = byte_range(TEXT, Pos(0, 0), Pos(0, 500))
    assert TEXT.encode("utf-8")[a:b].decode("utf-8") == "names = ['é', '🙂']"


def test_a_lone_surrogate_counts_as_the_three_bytes_tree_sitter_sees():
    assert utf8_len("a\ud800b") == 5
    assert utf8_span("a\ud800b", 2, 3) == (4, 5)
