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

from edgewise.context.documents import ByteEdit, ParsedDocument, shift_range

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


MAX_ROUNDS = 8  # rounds of widening the spans to whole containers


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

    def apply_edits(
        self, doc: ParsedDocument, edits: list[ByteEdit], dirty: list[tuple[int, int]]
    ) -> None:
        """Follow ``edits`` (in order; each in the coordinates left by the one before) made
        since the rows were last current; ``dirty`` are byte ranges of the final text whose
        syntax may have changed (tree-sitter's changed ranges, the edits themselves)."""
        query = self._query(doc)
        if query is None or doc.tree is None:
            self.rows = []
            return
        rows = self.rows
        dirty = list(dirty)
        again: list[tuple[int, int]] = []  # where dropped rows start now: meet them again
        for index, edit in enumerate(edits):
            later = edits[index + 1 :]
            rows, dropped = _follow(rows, edit)
            for start, end in dropped:
                again.append(_through(later, (start, start + 1)))
                if end > start:
                    dirty.append(_through(later, (start, end)))
            dirty.append(_through(later, (edit.start_byte, edit.new_end_byte)))
        # half-open byte spans of the new text whose rows are found again
        spans = merge_ranges(line_span(doc.data, start, end) for start, end in dirty)
        size = len(doc.data)
        for _ in range(MAX_ROUNDS):
            # a container whose header is in a span (its name, its kind may have changed,
            # or it is gone) and a container found anew: the rows inside are looked at again
            low, high = spans[0][0], spans[-1][1]
            wider = [
                (row.start_byte, row.end_byte)
                for row in rows
                if row.head_byte > row.start_byte
                and row.head_byte > low
                and row.lead_byte < high
                and _meets(spans, row.lead_byte, row.head_byte)
            ]
            ranges = [(max(b - 1, 0), min(e + 1, size)) for b, e in spans]
            ranges += [(min(b, size), min(max(e, b), size)) for b, e in again]
            found: dict[tuple[object, ...], Match] = {}
            for start, end in merge_ranges(ranges):
                cursor = QueryCursor(query)
                cursor.set_byte_range(start, end)
                for match in cursor.matches(doc.tree.root_node):
                    found[_match_id(match)] = match
            fresh = [
                row
                for row in self.extract(doc, query, list(found.values()))
                if _meets(spans, row.lead_byte, row.end_byte)
            ]
            wider += [
                (row.start_byte, row.end_byte)
                for row in fresh
                if row.head_byte > row.start_byte and _meets(spans, row.lead_byte, row.head_byte)
            ]
            grown = merge_ranges([*spans, *(line_span(doc.data, b, e) for b, e in wider)])
            if grown == spans:
                break
            spans = grown
        low, high = spans[0][0], spans[-1][1]
        kept = [
            row
            for row in rows
            if row.end_byte <= low
            or row.lead_byte >= high
            or not _meets(spans, row.lead_byte, row.end_byte)
        ]
        if fresh:
            # a row found again through a wider match replaces the kept one
            anchors = {(row.anchor_byte, row.key) for row in fresh}
            kept = [row for row in kept if (row.anchor_byte, row.key) not in anchors]
            for row in fresh:
                insort(kept, row, key=_order)
        self.rows = kept


def _meets(spans: list[tuple[int, int]], lead: int, end: int) -> bool:
    if end <= lead:  # a zero-width row (a missing name) can sit on the line break before a
        end = lead + 2  # span (tree-sitter's error recovery): it meets the span after it
    return (
        lead < spans[-1][1]
        and end > spans[0][0]
        and any(lead < stop and end > begin for begin, stop in spans)
    )


def _follow(rows: list[Row[M]], edit: ByteEdit) -> tuple[list[Row[M]], list[tuple[int, int]]]:
    """Rows the edit did not touch, moved to where they are after it (in order), and the
    (start, end) after the edit of those it touched (end > start: a container whose
    header it changed, whose rows inside must all be found again)."""
    bytes_, lines = edit.byte_delta, edit.row_delta
    first, old_end = edit.start_byte, edit.old_end_byte
    kept: list[Row[M]] = []
    keep = kept.append
    dropped: list[tuple[int, int]] = []
    for row in rows:
        start_byte, end_byte, lead, head, anchor, start_row, end_row, key, meta = row
        if end_byte < first:
            keep(row)
        elif lead > old_end:
            keep(
                Row(
                    start_byte + bytes_,
                    end_byte + bytes_,
                    lead + bytes_,
                    head + bytes_,
                    anchor + bytes_,
                    start_row + lines,
                    end_row + lines,
                    key,
                    meta,
                )
            )
        else:
            # an edit in a container's header (a class renamed, `def` made `class`)
            # changes what the rows inside it are: all of it is looked at again
            header = head > start_byte and head >= first and end_byte >= old_end
            # a row that starts in what the edit replaced starts where the edit does now
            moved = start_byte + bytes_ if start_byte > old_end else min(start_byte, first)
            dropped.append((moved, end_byte + bytes_ if header else moved))
    return kept, dropped


def _through(edits: list[ByteEdit], span: tuple[int, int]) -> tuple[int, int]:
    for edit in edits:
        span = shift_range(span, edit)
    return span


def _order(row: Row[Any]) -> tuple[int, int, str]:
    return row.start_byte, -row.end_byte, repr(row.key)


def _match_id(match: Match) -> tuple[object, ...]:
    """One id per match: the pattern and every node it captured."""
    index, captures = match
    return (index, *sorted((name, n.id) for name, nodes in captures.items() for n in nodes))
