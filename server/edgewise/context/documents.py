"""Syntax trees of open documents, kept current incrementally.

The canonical text stays in the pygls workspace. After every change the store diffs the
new text against the text its tree was built from and tells tree-sitter what changed
(``tree.edit``); the re-parse with the old tree happens when the tree is next read, so
it covers only what changed, once for all the keystrokes typed meanwhile (a burst of
typing that no completion waits for parses nothing). The line table and the query
tables (definitions, imports) follow the same edits, so nothing is recomputed for the
untouched rest of the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from tree_sitter import Node, Parser, Point, Tree

from edgewise.context.chunked_parse import ChunkedParse
from edgewise.context.languages import LanguageInfo, LanguageRegistry
from edgewise.context.positions import utf8_len
from edgewise.context.text_lines import TextLines

MAX_PARSE_BYTES = 2 * 1024 * 1024
RECENT_EDITS = 16  # edit locations remembered as a ranking signal
EDIT_LOG = 64
NEARBY_BYTES = 4096  # edits this close are combined into one for the tables
MAX_PENDING = 16
# tables follow at most this many changed bytes while typing (~1 ms per KB on Python)
LONG_FLUSH_BYTES = 16 * 1024
RATE_MIN_BYTES = 64 * 1024  # the parse rate is measured on files at least this long


def common_prefix_len(a: str, b: str) -> int:
    """Length of the common prefix, by binary search over C-level slice compares."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix_len(a: str, b: str, limit: int) -> int:
    lo, hi = 0, min(len(a), len(b)) - limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid : len(a) - lo] == b[len(b) - mid : len(b) - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _point_after(text: str, start: int, end: int, start_point: Point) -> Point:
    """The point of ``end``, counting only the text after ``start``."""
    newlines = text.count("\n", start, end)
    if not newlines:
        return Point(start_point.row, start_point.column + utf8_len(text[start:end]))
    line_start = text.rfind("\n", start, end) + 1
    return Point(start_point.row + newlines, utf8_len(text[line_start:end]))


def _byte_point(data: bytes, offset: int) -> Point:
    row = data.count(b"\n", 0, offset)
    return Point(row, offset - data.rfind(b"\n", 0, offset) - 1)


def error_ranges(node: Node) -> list[tuple[int, int]]:
    """Byte ranges of the ERROR and MISSING nodes under ``node``."""
    out: list[tuple[int, int]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            out.append((current.start_byte, current.end_byte))
            continue
        stack.extend(child for child in current.children if child.has_error)
    return out


@dataclass(frozen=True)
class ByteEdit:
    """One edit (or several, combined) in the byte coordinates tree-sitter uses: the text
    before ``start_byte`` and after ``old_end_byte`` (``new_end_byte`` now) is unchanged."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    row_delta: int  # lines added (negative: removed)

    @property
    def byte_delta(self) -> int:
        return self.new_end_byte - self.old_end_byte

    def then(self, later: ByteEdit) -> ByteEdit:
        """This edit followed by ``later`` (in the coordinates after this one), as one."""
        start = min(self.start_byte, later.start_byte)
        old_end = self.old_end_byte + max(0, later.old_end_byte - self.new_end_byte)
        new_end = max(self.new_end_byte, later.old_end_byte) + later.byte_delta
        return ByteEdit(start, old_end, new_end, self.row_delta + later.row_delta)


def shift_range(span: tuple[int, int], edit: ByteEdit) -> tuple[int, int]:
    """A byte range after ``edit``, widened to cover what the edit put in it."""
    start, end = span
    if start > edit.old_end_byte:
        start += edit.byte_delta
    elif start > edit.start_byte:
        start = edit.start_byte
    if end >= edit.old_end_byte:
        end = max(end + edit.byte_delta, edit.new_end_byte)
    elif end > edit.start_byte:
        end = edit.new_end_byte
    return start, end


class EditFollower(Protocol):
    """A table that follows a document's edits (see ``query_table.py``)."""

    def apply_edits(
        self, doc: ParsedDocument, edits: list[ByteEdit], dirty: list[tuple[int, int]]
    ) -> None: ...

    def rebuild(self, doc: ParsedDocument) -> None: ...


@dataclass
class ParsedDocument:
    uri: str
    language: LanguageInfo | None
    text: str
    _tree: Tree | None = field(default=None, repr=False)
    note: str = ""  # why there is no tree, when there is none
    version: int = 0
    recent_rows: list[int] = field(default_factory=list)  # rows of the latest edits
    # (version, first row, last row after the edit, lines added) of the latest edits
    edit_log: list[tuple[int, int, int, int]] = field(default_factory=list)
    _parser: Parser | None = field(default=None, repr=False)
    _lines: TextLines | None = field(default=None, repr=False)
    _data: bytes | None = field(default=None, repr=False)
    _tables: dict[str, EditFollower] = field(default_factory=dict, repr=False)
    # edits the tables have not seen yet (nearby ones combined), applied when a table is read
    _pending: list[ByteEdit] = field(default_factory=list, repr=False)
    _pending_dirty: list[tuple[int, int]] = field(default_factory=list, repr=False)
    _stale: bool = field(default=False, repr=False)  # edited since the tree was parsed
    # tables built on a standing-in tree: built again once a re-parse finishes
    _standin_tables: bool = field(default=False, repr=False)
    # set while a completion is built (``Engine``): a re-parse read through ``tree`` may
    # take at most this long, else the previous tree, edited, stands in (None: no limit)
    parse_budget_s: float | None = None
    parse_timed_out: bool = False  # the last re-parse tried did not finish in its time
    _tried_version: int = field(default=-1, repr=False)
    # bytes edited since the tree was last parsed, and the span already marked changed
    # over the errors (see ``_mark_errors``), both in the current text's bytes
    _since_parse: tuple[int, int] | None = field(default=None, repr=False)
    _touched: tuple[int, int] | None = field(default=None, repr=False)
    _parse_rate: float | None = field(default=None, repr=False)  # bytes/s of a whole parse
    # the tree is the text's own but the tables wait for a pause to catch up: too much of
    # the file changed its syntax (a string opened or closed) to follow in a keystroke
    _tables_behind: bool = field(default=False, repr=False)

    @property
    def tree(self) -> Tree | None:
        """The syntax tree of ``text``: edits only tell tree-sitter what changed, the
        re-parse happens here, when something reads the tree (one parse for all the
        keystrokes typed since). Under ``parse_budget_s`` the re-parse is tried once per
        version within that time: an edit that changes how the rest of a big file reads
        (an opened string) costs a whole-file parse, and until one finishes in time (in a
        pause, see ``advance_parse``) the previous tree with the edits applied stands in."""
        if self._stale:
            if self.parse_budget_s is None:
                self._reparse(None)
            elif self._tried_version != self.version:
                self._tried_version = self.version
                self._reparse(self.parse_budget_s)
        return self._tree

    @tree.setter
    def tree(self, tree: Tree | None) -> None:
        self._tree = tree
        self._stale = False
        self._since_parse = self._touched = None

    @contextmanager
    def parse_budget(self, seconds: float | None) -> Iterator[ParsedDocument]:
        """Reads of ``tree`` within this block re-parse only within ``seconds``."""
        previous, self.parse_budget_s = self.parse_budget_s, seconds
        try:
            yield self
        finally:
            self.parse_budget_s = previous

    @property
    def parse_pending(self) -> bool:
        """The tree is the previous one with the edits applied (no re-parse finished yet),
        or the tables have not followed the latest re-parse yet (see ``catch_up``)."""
        return self._stale or self._tables_behind

    def advance_parse(
        self, budget_s: float | None, interrupted: Callable[[], bool] | None = None
    ) -> bool:
        """Re-parse if that takes at most ``budget_s`` seconds (None: whatever it takes)
        and ``interrupted`` does not say to stop meanwhile; True when the tree is the
        text's own."""
        if self._stale:
            self._reparse(budget_s, interrupted)
        return not self._stale

    def catch_up(self) -> None:
        """Bring the tables to the current tree, however much changed (in a pause)."""
        if self._tables_behind and not self._stale:
            self._flush()

    def _reparse(
        self, budget_s: float | None, interrupted: Callable[[], bool] | None = None
    ) -> None:
        old_tree = self._tree
        if old_tree is None or self._parser is None:
            self._stale = False
            return
        if not self._mark_errors(old_tree, budget_s):
            self.parse_timed_out = True  # cannot fit: left for a pause, not tried
            return
        data = self.data
        if budget_s is None and interrupted is None:
            tree = self._parser.parse(data, old_tree)
        else:
            deadline = time.perf_counter() + budget_s if budget_s is not None else None

            def stop(*_: object) -> bool:
                if deadline is not None and time.perf_counter() > deadline:
                    return True
                return interrupted is not None and interrupted()

            try:
                tree = ChunkedParse(self._parser, data).parse(old_tree, stop)
            except ValueError:
                # out of time, or interrupted. The parse is dropped, not resumed later: a
                # parse that tree-sitter halts and resumes recovers from syntax errors
                # differently from one run through (measured: 28 of 200 texts with errors)
                self._parser.reset()
                self.parse_timed_out = True
                return
        self.parse_timed_out = False
        self._stale = False
        self._tree = tree
        self._since_parse = self._touched = None
        if self._tables:
            changed = [(r.start_byte, r.end_byte) for r in old_tree.changed_ranges(tree)]
            self._pending_dirty = merge_spans(self._pending_dirty + changed)
        if self._standin_tables:
            self._standin_tables = self._tables_behind = False
            self._tables.clear()

    def _mark_errors(self, tree: Tree, budget_s: float | None) -> bool:
        """Before a re-parse of a tree with syntax errors: tree-sitter may recover from an
        error differently when it reuses the old tree's error nodes than a fresh parse
        would (tree-sitter#1645), so the lines from the edits through every error are
        marked changed (an edit that changes no text), and parsed afresh. Marking costs
        as much as the span is long (~7 ms over the rest of a 10,000-line file), so it is
        done once before a parse, not per keystroke; False, and nothing done, when the
        span cannot be parsed in ``budget_s`` at this document's parse rate."""
        if self._since_parse is None or not tree.root_node.has_error:
            return True
        data = self.data
        low, high = self._since_parse
        for error_start, error_end in error_ranges(tree.root_node):
            low, high = min(low, error_start), max(high, error_end)
        low = data.rfind(b"\n", 0, low) + 1
        stop = data.find(b"\n", high)
        high = len(data) if stop < 0 else stop + 1
        touched = self._touched
        if touched is not None and touched[0] <= low and high <= touched[1]:
            return True
        rate = self._parse_rate
        if budget_s is not None and rate is not None and high - low > rate * budget_s * 2:
            return False
        start = Point(data.count(b"\n", 0, low), 0)
        end = _byte_point(data, high)
        tree.edit(
            start_byte=low,
            old_end_byte=high,
            new_end_byte=high,
            start_point=start,
            old_end_point=end,
            new_end_point=end,
        )
        self._touched = (low, high)
        if self._tables:  # their rows in it are found again too
            self._pending_dirty = merge_spans([*self._pending_dirty, (low, high)])
        return True

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.text.encode("utf-8", "surrogatepass")
        return self._data

    @property
    def lines(self) -> TextLines:
        if self._lines is None:
            self._lines = TextLines(self.text)
        return self._lines

    def table(self, kind: str, factory: Callable[[], Any]) -> Any:
        """The query table ``kind`` of this document, built on first use. While the
        previous tree stands in (a re-parse out of time), the tables are left as they
        were, edits not applied (rows after an edit are off by what it added): tables
        follow only trees that are the text's own, so they always equal a fresh parse."""
        if (self._pending or self._pending_dirty) and self.tree is not None and not self._stale:
            if kind in self._tables and self._flush_is_long():
                self._tables_behind = True  # until ``catch_up`` (in a pause)
            else:
                self._flush()
        table = self._tables.get(kind)
        if table is None:
            table = factory()
            table.rebuild(self)
            self._tables[kind] = table
            self._standin_tables = self._standin_tables or self._stale
        return table

    def _flush_is_long(self) -> bool:
        """Following the changes would re-query more than a keystroke affords (a parse
        budget is set while typing)."""
        if self.parse_budget_s is None:
            return False
        return sum(end - start for start, end in self._pending_dirty) > LONG_FLUSH_BYTES

    def _flush(self) -> None:
        """Bring the tables to the current text: the edits since they were last read, and
        where the syntax changed since then (tree-sitter's changed ranges, kept per edit:
        holding on to an older tree to compare later makes every parse slower)."""
        tree = self.tree  # parsed first: its changed ranges join the dirty spans
        edits, dirty = self._pending, self._pending_dirty
        self._pending, self._pending_dirty = [], []
        self._tables_behind = False
        if (not edits and not dirty) or tree is None:
            return
        for table in self._tables.values():
            table.apply_edits(self, edits, dirty)

    def parse_full(self) -> None:
        self._standin_tables = False
        self.tree = None
        self._data = None
        self._tables.clear()
        self._pending, self._pending_dirty = [], []
        self._tables_behind = False
        self.version += 1
        if self.language is None:
            self.note = "unknown language: plain window context"
            return
        data = self.data
        if len(data) > MAX_PARSE_BYTES:
            self.note = (
                f"file over {MAX_PARSE_BYTES // (1024 * 1024)} MB: plain window context, "
                "no syntax tree"
            )
            return
        if b"\x00" in data:
            self.note = "binary file: plain window context"
            return
        self.note = ""
        if self._parser is None:
            self._parser = self.language.parser()
        began = time.perf_counter()
        self.tree = self._parser.parse(data)
        if len(data) >= RATE_MIN_BYTES:  # smaller parses are too quick to time
            self._parse_rate = len(data) / max(time.perf_counter() - began, 1e-6)

    def drop_tree(self, note: str) -> None:
        """Use a plain window for this text (it could not be read faithfully)."""
        self.tree = None
        self._tables.clear()
        self._pending, self._pending_dirty = [], []
        self._tables_behind = False
        self.note = note

    def update(self, new_text: str) -> None:
        """Bring the tree, the lines and the tables to ``new_text`` with one incremental edit."""
        old_text = self.text
        if new_text == old_text:
            return
        start = common_prefix_len(old_text, new_text)
        suffix = common_suffix_len(old_text, new_text, start)
        old_end = len(old_text) - suffix
        new_end = len(new_text) - suffix
        self.text = new_text
        # tree-sitter rows count "\n" only; the line table agrees unless there is a lone "\r"
        if self._lines is not None and "\r" not in old_text:
            row = self._lines.line_of(start)
        else:
            row = old_text.count("\n", 0, start)
        if self._lines is not None:
            self._lines.apply(new_text, start, old_end, new_end)
        self._data = None
        line_start = old_text.rfind("\n", 0, start) + 1
        start_point = Point(row, utf8_len(old_text[line_start:start]))
        self._remember(row, old_text, start, old_end, new_text, new_end)
        self.edit_log.append(
            (
                self.version + 1,
                row,
                row + new_text.count("\n", start, new_end),
                new_text.count("\n", start, new_end) - old_text.count("\n", start, old_end),
            )
        )
        del self.edit_log[:-EDIT_LOG]
        if self._tree is None or self._parser is None:
            self.parse_full()
            return
        data = self.data
        if len(data) > MAX_PARSE_BYTES or b"\x00" in data:
            self.parse_full()
            return
        start_byte = utf8_len(old_text[:start])
        old_end_point = _point_after(old_text, start, old_end, start_point)
        new_end_point = _point_after(new_text, start, new_end, start_point)
        edit = ByteEdit(
            start_byte=start_byte,
            old_end_byte=start_byte + utf8_len(old_text[start:old_end]),
            new_end_byte=start_byte + utf8_len(new_text[start:new_end]),
            row_delta=new_end_point.row - old_end_point.row,
        )
        self._tree.edit(
            start_byte=edit.start_byte,
            old_end_byte=edit.old_end_byte,
            new_end_byte=edit.new_end_byte,
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=new_end_point,
        )
        self._stale = True  # parsed when the tree is read (see ``tree``)
        self.version += 1
        low, high = edit.start_byte, edit.new_end_byte
        if self._since_parse is not None:
            before = shift_range(self._since_parse, edit)
            low, high = min(low, before[0]), max(high, before[1])
        self._since_parse = (low, high)
        if self._touched is not None:
            self._touched = shift_range(self._touched, edit)
        if self._tables:
            dirty = [shift_range(span, edit) for span in self._pending_dirty]
            dirty.append((edit.start_byte, edit.new_end_byte))
            self._pending_dirty = merge_spans(dirty)  # + tree-sitter's changed ranges
            last = self._pending[-1] if self._pending else None
            if last is not None and (
                edit.start_byte <= last.new_end_byte + NEARBY_BYTES
                and edit.old_end_byte >= last.start_byte - NEARBY_BYTES
            ):
                self._pending[-1] = last.then(edit)  # typing: one edit that grows
            else:
                self._pending.append(edit)
                if len(self._pending) > MAX_PENDING:
                    self._pending[-2:] = [self._pending[-2].then(self._pending[-1])]

    def _remember(
        self, row: int, old_text: str, start: int, old_end: int, new_text: str, new_end: int
    ) -> None:
        """Keep the rows of recent edits, shifted by lines this edit added or removed."""
        added = new_text.count("\n", start, new_end) - old_text.count("\n", start, old_end)
        if added:
            self.recent_rows = [r + added if r > row else r for r in self.recent_rows]
        if row in self.recent_rows:
            self.recent_rows.remove(row)
        self.recent_rows.append(row)
        del self.recent_rows[:-RECENT_EDITS]


class DocumentStore:
    """The parsed documents of one server (or one batch run)."""

    def __init__(self, languages: LanguageRegistry) -> None:
        self.languages = languages
        self._docs: dict[str, ParsedDocument] = {}
        # told every change: uri, text before, text after, and the rows the edit log has
        # for it (first row, last row after it, lines added) or None (context/recent_edits.py)
        self.on_change: Callable[[str, str, str, tuple[int, int, int] | None], None] | None = None

    def open(self, uri: str, text: str, language_id: str | None = None) -> ParsedDocument:
        doc = ParsedDocument(uri, self.languages.for_document(uri, language_id), text)
        doc.parse_full()
        self._docs[uri] = doc
        return doc

    def sync(self, uri: str, text: str, language_id: str | None = None) -> ParsedDocument:
        """The parsed document for ``uri`` at exactly ``text``."""
        doc = self._docs.get(uri)
        if doc is None:
            return self.open(uri, text, language_id)
        before = doc.text
        doc.update(text)
        if self.on_change is not None and doc.text is not before:
            last = doc.edit_log[-1] if doc.edit_log else None
            rows = last[1:] if last is not None and last[0] == doc.version else None
            self.on_change(uri, before, doc.text, rows)
        return doc

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def get(self, uri: str) -> ParsedDocument | None:
        return self._docs.get(uri)

    def all(self) -> list[ParsedDocument]:
        return list(self._docs.values())
