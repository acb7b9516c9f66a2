"""The server's document keeps its lines edit by edit instead of re-splitting the file on
every keystroke; random changes (including ranges past the end, reversed ranges, CRLF,
lone CR, form feeds, surrogate pairs, every position encoding) must give exactly the text,
lines and positions of a whole-file reference that clamps positions as the LSP says (a
column past a line's end is the end of its content, never inside its line break; a line
past the document's end is the document's end; a reversed range inserts at its start)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import PositionCodec

from edgewise.context.text_lines import lsp_lines
from edgewise.lsp.workspace import LspTextDocument


class WholeFileDocument(TextDocument):
    """The reference: lines split afresh at every access, a position walked character by
    character (pygls' unit counts)."""

    @property
    def lines(self) -> Sequence[str]:
        return tuple(lsp_lines(self.source))

    def offset_at_position(self, client_position: types.Position) -> int:
        text = self.source
        lines = list(self.lines)
        if not lines or lines[-1].endswith(("\r", "\n")):
            lines.append("")
        if client_position.line >= len(lines):
            return len(text)
        start = sum(map(len, lines[: client_position.line]))
        content = lines[client_position.line].rstrip("\r\n")
        count = 0
        for index, char in enumerate(content):
            if count >= client_position.character:
                return start + index
            count += self._position_codec.impl.code_units_for_char(char)
        return start + len(content)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        start = self.offset_at_position(change.range.start)
        end = max(self.offset_at_position(change.range.end), start)
        self._source = self.source[:start] + change.text + self.source[end:]


ALPHABET = st.sampled_from(
    list("ab \t#'\"()\n") + ["\r\n", "\r", "é", "中", "😀", "\x0c", "\x0b", "\u2028"]
)
TEXT = st.lists(ALPHABET, max_size=25).map("".join)
POSITION = st.tuples(st.integers(0, 8), st.integers(0, 12))
ENCODINGS = [
    types.PositionEncodingKind.Utf8,
    types.PositionEncodingKind.Utf16,
    types.PositionEncodingKind.Utf32,
]


def change(start: tuple[int, int], end: tuple[int, int], text: str) -> Any:
    return types.TextDocumentContentChangePartial(
        range=types.Range(
            start=types.Position(line=start[0], character=start[1]),
            end=types.Position(line=end[0], character=end[1]),
        ),
        text=text,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    initial=TEXT,
    edits=st.lists(st.tuples(POSITION, POSITION, TEXT), min_size=1, max_size=10),
    encoding=st.sampled_from(ENCODINGS),
    offsets=st.lists(st.integers(-2, 40), max_size=6),
)
def test_changes_give_what_pygls_gives(
    initial: str, edits: list, encoding: types.PositionEncodingKind, offsets: list[int]
) -> None:
    ours = LspTextDocument("file:///a.py", initial, position_codec=PositionCodec(encoding))
    reference = WholeFileDocument("file:///a.py", initial, position_codec=PositionCodec(encoding))
    for start, end, text in edits:
        ours.apply_change(change(start, end, text))  # fresh positions: pygls mutates them
        reference.apply_change(change(start, end, text))
        assert ours.source == reference.source
        assert tuple(ours.lines) == reference.lines
        assert len(ours.lines) == len(reference.lines)
        for line, character in (start, end):
            position = types.Position(line=line, character=character)
            assert ours.offset_at_position(position) == reference.offset_at_position(
                types.Position(line=line, character=character)
            )
        for offset in offsets:
            if reference.lines:  # pygls fails on an empty document; nothing asks then
                assert ours.server_position_at_offset(offset) == (
                    reference.server_position_at_offset(offset)
                )


def test_a_keystroke_does_not_split_the_file_again() -> None:
    text = "".join(f"line {n}\n" for n in range(20_000))
    doc = LspTextDocument("file:///big.py", text)
    table = doc.line_table()
    doc.apply_change(change((10_000, 4), (10_000, 4), "x"))
    assert doc.line_table() is table, "the line table followed the edit"
    assert doc.lines[10_000] == "linex 10000\n" and doc.lines[10_001] == "line 10001\n"
    assert doc.source.count("\n") == len(doc.lines) == 20_000
    doc.apply_change(change((0, 0), (19_999, 0), ""))
    assert doc.source == "line 19999\n" and tuple(doc.lines) == ("line 19999\n",)


@pytest.mark.parametrize("text", ["", "a", "a\n", "a\r\nb\x0cc\rd"])
def test_full_replacement_and_reads_stay_consistent(text: str) -> None:
    doc = LspTextDocument("file:///a.py", "old\ntext\n")
    assert len(doc.lines) == 2
    doc.apply_change(types.TextDocumentContentChangeWholeDocument(text=text))
    assert tuple(doc.lines) == tuple(lsp_lines(text))
