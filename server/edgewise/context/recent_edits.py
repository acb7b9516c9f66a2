"""What the user just did: their most recent edits as small diff hunks, newest last.

The document store tells :class:`RecentEdits` every edit (its listener, ``listen_to``:
where, what was replaced, by what). Changes next to each other (typing a word, a line, a few lines in a row) grow
one hunk; a change elsewhere, or in another document, closes it and opens the next. A
hunk is the lines it changed, before and after (``-``/``+`` lines), at most
``MAX_HUNK_LINES`` of each; typing that undid itself leaves no hunk. The completion prompt
may carry the latest hunks (``context/prompt.py``), but never the one still growing on
the cursor line: the cursor line shows it, and leaving it out keeps the prompt the same
while the user types along the line (KV-cache reuse).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from edgewise.context.documents import (
    DocumentEdit,
    DocumentStore,
    common_prefix_len,
    common_suffix_len,
)

KEPT_HUNKS = 8  # closed hunks remembered
MAX_HUNK_LINES = 12  # of each side of a hunk: a bigger change is cut to its start
NEAR_LINES = 1  # a change this many lines from the open hunk grows it


@dataclass(frozen=True)
class Hunk:
    """One diff hunk: at ``line`` (0-based, in the document as it was) ``old`` became
    ``new`` (whole lines, without line endings)."""

    uri: str
    line: int
    old: tuple[str, ...]
    new: tuple[str, ...]
    serial: int  # 1 for the first hunk ever recorded, growing: the order they were made

    def rows(self) -> tuple[int, int]:
        """The lines the hunk's new text covers (first, last), in the text it was made in."""
        return self.line, self.line + max(len(self.new), 1) - 1


@dataclass
class _Open:
    uri: str
    base: str  # the document's text before the hunk's first change
    last: str  # ... after its latest change
    first_row: int  # the changed lines, in ``last``
    last_row: int


def line_hunk(uri: str, before: str, after: str, serial: int) -> Hunk | None:
    """The lines that differ between ``before`` and ``after`` as one hunk (None: none)."""
    if before == after:
        return None
    start = common_prefix_len(before, after)
    suffix = common_suffix_len(before, after, start)
    line_start = before.rfind("\n", 0, start) + 1
    old_end = _line_end(before, len(before) - suffix)
    new_end = _line_end(after, len(after) - suffix)
    old = before[line_start:old_end].splitlines()
    new = after[line_start:new_end].splitlines()
    if old == new:
        return None
    row = before.count("\n", 0, line_start)
    return Hunk(uri, row, tuple(old[:MAX_HUNK_LINES]), tuple(new[:MAX_HUNK_LINES]), serial)


def _line_end(text: str, offset: int) -> int:
    """The end of the line holding ``offset`` (before its line break)."""
    if offset > 0 and text[offset - 1 : offset] == "\n":
        return offset - 1  # the change ended a line: that line, not the next
    found = text.find("\n", offset)
    return len(text) if found < 0 else found


class RecentEdits:
    """The latest diff hunks of every document, fed by the document store."""

    def __init__(self, kept: int = KEPT_HUNKS) -> None:
        self._closed: deque[Hunk] = deque(maxlen=kept)
        self._open: _Open | None = None
        self._serial = 0
        self.revision = 0  # grows whenever the hunks :meth:`latest` can give change

    def record(self, uri: str, before: str, after: str) -> None:
        """One change of ``uri`` from ``before`` to ``after``, found by comparing the texts
        (for callers that have only texts; the document store tells :meth:`follow`)."""
        if before == after:
            return
        start = common_prefix_len(before, after)
        suffix = common_suffix_len(before, after, start)
        row = before.count("\n", 0, start)
        old, new = before[start : len(before) - suffix], after[start : len(after) - suffix]
        self.follow(DocumentEdit(uri, start, old, new, row, 0), after)

    def listen_to(self, store: DocumentStore) -> None:
        """Follow every edit ``store`` makes (its one listener)."""

        def follow(edit: DocumentEdit) -> None:
            doc = store.get(edit.uri)
            if doc is not None:
                self.follow(edit, doc.text)

        store.listener = follow

    def follow(self, edit: DocumentEdit, after: str) -> None:
        """One edit as the document store tells it (``after``: the document's text after
        it). Where it is comes with the edit, so following a keystroke does not compare
        texts; the text before is rebuilt only when a new hunk opens."""
        if not edit.old_text and not edit.new_text:
            return
        row = edit.row
        old_rows = edit.old_text.count("\n")
        new_rows = edit.new_text.count("\n")
        current = self._open
        if current is not None and current.uri == edit.uri:
            near = (
                current.first_row - NEAR_LINES <= row + old_rows
                and row <= current.last_row + NEAR_LINES
            )
            if near:
                shift = new_rows - old_rows
                current.first_row = min(current.first_row, row)
                current.last_row = max(current.last_row + shift, row + new_rows)
                current.last = after
                return
        self._close()
        end = edit.start + len(edit.new_text)
        before = after[: edit.start] + edit.old_text + after[end:]
        self._open = _Open(edit.uri, before, after, row, row + new_rows)

    def _close(self) -> None:
        current = self._open
        self._open = None
        if current is None:
            return
        self._serial += 1
        hunk = line_hunk(current.uri, current.base, current.last, self._serial)
        if hunk is not None:
            self._closed.append(hunk)
            self.revision += 1

    def close_document(self, uri: str) -> None:
        """``uri`` was closed: its growing hunk is closed too (its texts are let go)."""
        if self._open is not None and self._open.uri == uri:
            self._close()

    def growing_at(self, uri: str, line: int) -> bool:
        """The hunk still growing is in ``uri`` on ``line`` (the cursor line shows it)."""
        current = self._open
        return (
            current is not None
            and current.uri == uri
            and (current.first_row <= line <= current.last_row)
        )

    def latest(self, uri: str, line: int, count: int = KEPT_HUNKS) -> list[Hunk]:
        """The latest ``count`` hunks, newest last; the one still growing only when it is
        not on ``line`` of ``uri``."""
        hunks = list(self._closed)
        current = self._open
        if current is not None and not self.growing_at(uri, line):
            hunk = line_hunk(current.uri, current.base, current.last, self._serial + 1)
            if hunk is not None:
                hunks.append(hunk)
        return hunks[-count:]

    def key(self, uri: str, line: int) -> tuple[object, ...]:
        """What :meth:`latest` depends on for a prompt at ``line`` of ``uri``: equal keys,
        equal hunks (the hunk growing on the cursor line is left out of both)."""
        current = self._open
        if current is None or self.growing_at(uri, line):
            return (self.revision,)
        return (self.revision, current.uri, current.first_row, current.last_row, id(current.last))


def render_hunk(hunk: Hunk, name: str, comment: str) -> str:
    """A hunk as the prompt shows it: commented out, a line naming the file and line,
    then ``-`` and ``+`` lines."""
    lines = [f"{comment} edited {name} line {hunk.line + 1}:"]
    lines += [f"{comment} -{old}" for old in hunk.old]
    lines += [f"{comment} +{new}" for new in hunk.new]
    return "\n".join(lines) + "\n"
