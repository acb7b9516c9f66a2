"""LSP positions (line, column in the negotiated encoding) <-> character offsets, and
character offsets -> the UTF-8 byte offsets tree-sitter counts in.

LSP columns count UTF-16 code units unless client and server agreed on UTF-8 or UTF-32
at initialize (Neovim offers UTF-8 first), so every conversion takes the encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

from edgewise.context.text_lines import TextLines, split_lines

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

UNIT_BYTES = {"utf-8": 1, "utf-16": 2, "utf-32": 4}


def units(text: str, encoding: str = "utf-16") -> int:
    """Length of ``text`` in code units of the encoding."""
    if encoding == "utf-32" or text.isascii():  # isascii is O(1) on str
        return len(text)
    codec = "utf-8" if encoding == "utf-8" else "utf-16-le"
    return len(text.encode(codec, "surrogatepass")) // UNIT_BYTES[encoding]


def utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes, as tree-sitter counts (a lone surrogate kept)."""
    return len(text.encode("utf-8", "surrogatepass"))


def utf8_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The UTF-8 byte offsets of the characters ``text[start:end]``."""
    first = utf8_len(text[:start])
    return first, first + utf8_len(text[start:end])


def index_of_column(
    line: str, column: int, encoding: str = "utf-16", end: int | None = None
) -> int:
    """Python index into ``line`` of a column in code units, clamped to the line's content
    (its first ``end`` characters: the line without its break, by default all of it) as
    the LSP says; a column inside a character (half a surrogate pair, inside a UTF-8
    sequence) counts as after it.

    C passes over at most ``column`` characters, never a loop per character: on a 5 MB
    line the loop took 1.6 s a keystroke. An ASCII line (``isascii`` is O(1)) needs none.
    """
    end = len(line) if end is None else end
    if column <= 0:
        return 0
    if encoding == "utf-32" or line.isascii():
        return min(column, end)
    # every character is at least one unit: the column lies within its first characters
    head = line[: min(column, end)]
    if encoding == "utf-8":
        data = head.encode("utf-8", "surrogatepass")
        if column >= len(data):
            return len(head)
        try:
            return len(data[:column].decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError as exc:  # the column cuts a character: count it whole
            return len(data[: exc.start].decode("utf-8", "surrogatepass")) + 1
    data = head.encode("utf-16-le", "surrogatepass")
    if 2 * column >= len(data):  # no surrogate pair before the column: unit = character
        return len(head)
    # half a pair decodes to a lone surrogate, one more character: rounded up
    return len(data[: 2 * column].decode("utf-16-le", "surrogatepass"))


def offset_of(table: TextLines, line: int, column: int, encoding: str = "utf-16") -> int:
    """Character offset of an LSP position in the text of ``table``, clamped as the LSP
    says: to the line's content (a line break is never split) and into the document (a
    line past its end is its end)."""
    if line < 0:
        return 0
    if line >= len(table):
        return len(table.text)
    end = table.content_length(line)
    return table.start(line) + index_of_column(table.lines[line], column, encoding, end)


@dataclass(frozen=True)
class Pos:
    line: int
    character: int  # code units of the negotiated encoding

    def to_dict(self) -> dict[str, int]:
        return {"line": self.line, "character": self.character}


class LineIndex:
    """Line starts of one text, for converting positions and offsets both ways."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        self.lines = split_lines(text)
        # a document's index shares its line table's numpy array (see ``of``)
        self.starts: list[int] | npt.NDArray[np.int64] = [0, *accumulate(map(len, self.lines[:-1]))]

    @classmethod
    def of(cls, table: TextLines, encoding: str = "utf-16") -> LineIndex:
        """The index of ``table.text`` sharing the table's lines and starts (a document's
        line table is kept current edit by edit: nothing is split again)."""
        index = cls.__new__(cls)
        index.text, index.encoding, index.lines = table.text, encoding, table.lines
        index.starts = table.starts  # a numpy array: indexing and bisection work alike
        return index

    def content(self, line: int) -> str:
        return self.lines[line].rstrip("\r\n")

    def clamp(self, pos: Pos) -> tuple[int, int]:
        """(line, python column) of an LSP position, clamped into the document."""
        line = max(0, min(pos.line, len(self.lines) - 1))
        if pos.line >= len(self.lines):
            return line, len(self.content(line))
        return line, index_of_column(self.content(line), max(pos.character, 0), self.encoding)

    def offset(self, pos: Pos) -> int:
        line, column = self.clamp(pos)
        return int(self.starts[line]) + column

    def byte_range(self, start: Pos, end: Pos) -> tuple[int, int]:
        """UTF-8 byte offsets of the range from ``start`` to ``end`` (tree-sitter's)."""
        return utf8_span(self.text, self.offset(start), self.offset(end))

    def position(self, offset: int) -> Pos:
        offset = max(0, min(int(offset), len(self.text)))
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        column = offset - int(self.starts[lo])
        return Pos(lo, units(self.lines[lo][:column], self.encoding))


def end_after_insert(start: Pos, inserted: str, encoding: str = "utf-16") -> Pos:
    """Where text inserted at ``start`` ends."""
    parts = inserted.split("\n")
    if len(parts) == 1:
        return Pos(start.line, start.character + units(inserted, encoding))
    return Pos(start.line + len(parts) - 1, units(parts[-1], encoding))


def clamp_position(
    lines: TextLines, pos: Pos, encoding: str = "utf-16"
) -> tuple[int, int, list[str]]:
    """(line, python column) of an LSP position clamped into the document, and what was
    clamped, for the report's notes."""
    notes: list[str] = []
    last = len(lines) - 1
    if pos.line > last or pos.line < 0:
        line = max(0, min(pos.line, last))
        notes.append(f"line {pos.line + 1} is past the end of the file: clamped")
        if pos.line > last:
            return line, len(lines.content(line)), notes
        return line, 0, notes
    content = lines.content(pos.line)
    column = index_of_column(content, max(pos.character, 0), encoding)
    if pos.character > units(content, encoding):
        notes.append(f"column {pos.character + 1} is past the end of line {pos.line + 1}: clamped")
    return pos.line, column, notes


def byte_range(text: str, start: Pos, end: Pos, encoding: str = "utf-16") -> tuple[int, int]:
    """The UTF-8 byte offsets of an LSP range (clamped as the LSP says) in ``text``."""
    return LineIndex(text, encoding).byte_range(start, end)
