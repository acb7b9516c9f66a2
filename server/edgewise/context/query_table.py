"""Rows extracted from one query over a document, kept current edit by edit.

A row covers a byte range of the document (a definition, an import). After an edit the
table keeps the rows the edit did not touch (shifting those after it), drops the rows
that overlap the edited lines or a range tree-sitter reports as changed, and runs the
query again only over those ranges. A keystroke in a 10,000-line file therefore costs a
query over a few lines, not over the file.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

from tree_sitter import Node, Query, QueryCursor

from edgewise.context.documents import ByteEdit, ParsedDocument

M = TypeVar("M")

Match = tuple[int, dict[str, list[Node]]]


class Row(NamedTuple, Generic[M]):
    start_byte: int
    end_byte: int
    lead_byte: int  # where the row's influence starts (a doc comment above it)
    head_byte: int  # end of its header: an edit before it can change the rows inside
    anchor_byte: int  # what the row is about (a name): one row per anchor and key
    start_row: int
    end_row: int
    key: Hashable  # identifies the row among rows that start at the same byte
    meta: M  # position-free facts (name, kind, rendered text …)


Extract = Callable[[ParsedDocument, Query, list[Match]], list[Row[Any]]]


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def line_span(data: bytes, start: int, end: int) -> tuple[int, int]:
    """Bytes from the start of the line before ``start`` to the end of the line after
    ``end``: an edit can change how the lines next to it parse (a Python body that grows
    by one indented line, a comment that becomes a doc comment)."""
    start = max(0, min(start, len(data)))
    end = max(start, min(end, len(data)))
    begin = data.rfind(b"\n", 0, start)
    begin = data.rfind(b"\n", 0, max(begin, 0)) + 1 if begin > 0 else 0
    stop = data.find(b"\n", end)
    stop = data.find(b"\n", stop + 1) if stop >= 0 else -1
    return begin, len(data) if stop < 0 else stop + 1


class QueryTable(Generic[M]):
    def __init__(self, kind: str, extract: Extract) -> None:
        self.kind = kind
        self.extract = extract
        self.rows: list[Row[M]] = []

    def _query(self, doc: ParsedDocument) -> Query | None:
        if doc.tree is None or doc.language is None:
            return None
        return doc.language.query(self.kind)

    def rebuild(self, doc: ParsedDocument) -> None:
        query = self._query(doc)
        if query is None or doc.tree is None:
            self.rows = []
            return
        matches = QueryCursor(query).matches(doc.tree.root_node)
        self.rows = sorted(self.extract(doc, query, matches), key=_order)

    def apply_edit(self, doc: ParsedDocument, edit: ByteEdit, dirty: list[tuple[int, int]]) -> None:
        query = self._query(doc)
        if query is None or doc.tree is None:
            self.rows = []
            return
        bytes_, rows = edit.byte_delta, edit.row_delta
        first, old_end = edit.start_byte, edit.old_end_byte
        # an edit in a container's header (a class renamed, `def` made `class`) changes
        # what the rows inside it are: look at all of it again
        dirty = [*dirty, (first, edit.new_end_byte)] + [
            (row.start_byte, row.end_byte + bytes_)
            for row in self.rows
            if row.head_byte > row.start_byte
            and row.lead_byte <= old_end
            and row.head_byte >= first
            and row.end_byte >= old_end
        ]
        # half-open byte spans of the new text whose rows are found again
        spans = merge_ranges(line_span(doc.data, start, end) for start, end in dirty)
        low, high = spans[0][0], spans[-1][1]

        def touched(lead: int, end: int) -> bool:
            return (
                lead < high
                and end > low
                and any(lead < stop and end > begin for begin, stop in spans)
            )

        kept: list[Row[M]] = []
        keep = kept.append
        again: list[tuple[int, int]] = []  # starts of dropped rows, to be sure to meet them
        # rows before the edit keep their place, rows after it move; both stay in order
        for row in self.rows:
            start_byte, end_byte, lead, head, anchor, start_row, end_row, key, meta = row
            if end_byte < first:
                if end_byte <= low or not touched(lead, end_byte):
                    keep(row)
                    continue
            elif lead > old_end:
                start_byte += bytes_
                lead += bytes_
                end_byte += bytes_
                if lead >= high or not touched(lead, end_byte):
                    keep(
                        Row(
                            start_byte,
                            end_byte,
                            lead,
                            head + bytes_,
                            anchor + bytes_,
                            start_row + rows,
                            end_row + rows,
                            key,
                            meta,
                        )
                    )
                    continue
            elif start_byte > old_end:
                start_byte += bytes_
            again.append((start_byte, start_byte + 1))
        found: dict[tuple[object, ...], Match] = {}
        size = len(doc.data)
        ranges = [(max(b - 1, 0), min(e + 1, size)) for b, e in spans]
        ranges += [(min(b, size), min(e, size)) for b, e in again]
        for start, end in merge_ranges(ranges):
            cursor = QueryCursor(query)
            cursor.set_byte_range(start, end)
            for match in cursor.matches(doc.tree.root_node):
                found[_match_id(match)] = match
        fresh = [
            row
            for row in self.extract(doc, query, list(found.values()))
            if touched(row.lead_byte, row.end_byte)
        ]
        if fresh:
            # a row found again through a wider match replaces the kept one
            anchors = {(row.anchor_byte, row.key) for row in fresh}
            kept = [row for row in kept if (row.anchor_byte, row.key) not in anchors]
            for row in fresh:
                insort(kept, row, key=_order)
        self.rows = kept


def _order(row: Row[Any]) -> tuple[int, int, str]:
    return row.start_byte, -row.end_byte, repr(row.key)


def _match_id(match: Match) -> tuple[object, ...]:
    """One id per match: the pattern and every node it captured."""
    index, captures = match
    return (index, *sorted((name, n.id) for name, nodes in captures.items() for n in nodes))
