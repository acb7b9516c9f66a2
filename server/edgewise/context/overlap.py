"""Suggestion text that repeats what is already in the document is cut away.

A prefix-only prompt (models without FIM tokens) never shows the model the code after
the cursor, so it often re-types the next line that is already there; FIM models do it
too, less often. The suggestion is cut before the first line that repeats the next
non-blank line after the cursor. And a multi-line suggestion that ran out of tokens is
cut where its enclosing scope ended, as the streaming stop check would have done had
the last line been complete.
"""

from __future__ import annotations

from collections.abc import Callable


def cut_repeated_lines(text: str, line_prefix: str, following: str) -> str:
    """Cut ``text`` before a line that equals the next non-blank line after the cursor
    line (compared without surrounding space). The suggestion's first line continues the
    cursor line, so it only counts when nothing but indentation is typed before it."""
    upcoming = next((line.strip() for line in following.splitlines() if line.strip()), "")
    if not upcoming:
        return text
    lines = text.split("\n")
    offset = 0
    for index, line in enumerate(lines):
        whole_line = index > 0 or not line_prefix.strip()
        if whole_line and line.strip() == upcoming:
            return text[:offset].rstrip()
        offset += len(line) + 1
    return text


def cut_at_scope_end(text: str, stop: Callable[[str], int | None]) -> str:
    """Apply a streaming stop check once more with the last line taken as complete."""
    keep = stop(text + "\n")
    return text if keep is None else text[: min(keep, len(text))]
