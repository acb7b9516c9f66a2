"""Suggestion text that repeats what is already there is cut away (an echo).

A prefix-only prompt (models without FIM tokens) never shows the model the code after
the cursor, so it often re-types the next line that is already there; FIM models do it
too, less often, and small models copy the block right above the cursor (the body of
the previous function) or loop on their own text. :func:`find_echo` finds the first
place where the suggestion starts to echo:

- ``echo_below``: a whole line that equals one of the next non-blank lines after the
  cursor line (the model re-types what follows);
- ``echo_above``: a whole line that equals the line right above the cursor, or three
  lines in a row that equal three lines in a row above the cursor (a copied block);
- ``loop``: a line that equals the suggestion's line before it, two lines in a row that
  equal two earlier lines of the suggestion, or a stretch of text repeated three times in
  a row.

Lines made of punctuation alone (``)``, ``}``, ``else:``) and very short lines are never
judged an echo of the lines around (code repeats them legitimately), except that
nothing re-types the very next line. And a multi-line
suggestion that ran out of tokens is cut where its enclosing scope ended, as the
streaming stop check would have done had the last line been complete.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

BELOW_LINES = 3  # non-blank lines after the cursor a suggestion line must not re-type
ABOVE_LINES = 40  # lines above the cursor a copied block is looked for in
BLOCK_LINES = 3  # lines in a row copied from above the cursor that make an echo
MIN_ECHO_CHARS = 6  # a shorter line (without surrounding space) is never an echo
MAX_LOOP_CHARS = 4000  # of a suggestion, searched for a stretch repeated in a row
# the same stretch (with a letter or digit, at least this long) three times in a row
_REPEATED = re.compile(r"(?=(.{4,80}?)\1\1)", re.DOTALL)  # longer: the line rules


@dataclass(frozen=True)
class Echo:
    """Where a suggestion starts to echo (characters kept) and what it echoes."""

    kept: int
    reason: str  # echo_below | echo_above | loop
    line: str  # the echoed text (without surrounding space)


def substantial(line: str) -> bool:
    """A line whose repetition is an echo: long enough and with a word in it."""
    body = line.strip()
    return len(body) >= MIN_ECHO_CHARS and any(c.isalnum() for c in body)


def find_echo(text: str, line_prefix: str, above: str, following: str) -> Echo | None:
    """The first echo in ``text`` (a suggestion that continues ``line_prefix``; ``above``:
    the document's lines before the cursor line, ``following``: the lines after it), or
    None. The suggestion's first line continues the cursor line: it is compared as the
    whole line it makes (an echo there drops the whole suggestion)."""
    lines = text.split("\n")
    below = [s for s in (line.strip() for line in following.splitlines()) if s][:BELOW_LINES]
    above_lines = [line.strip() for line in above.splitlines()[-ABOVE_LINES:]]
    right_above = next((s for s in reversed(above_lines) if s), "")
    previous = ""  # the suggestion's last non-blank whole line
    pairs: set[tuple[str, str]] = set()  # its earlier lines two by two
    offset = 0
    for index, line in enumerate(lines):
        body = (line_prefix + line if index == 0 else line).strip()
        if body and (index > 0 or line.strip()):
            if below and (body == below[0] or (substantial(body) and body in below)):
                return Echo(offset, "echo_below", body)
            if substantial(body):
                if body == right_above or _copied_block(lines, index, above_lines):
                    return Echo(offset, "echo_above", body)
                if body == previous or _pair(lines, index) in pairs:
                    return Echo(offset, "loop", body)
            if previous:
                pairs.add((previous, body))
            previous = body
        elif index == 0:
            previous = line_prefix.strip()
        offset += len(line) + 1
    return _repeated_stretch(text[:MAX_LOOP_CHARS])


def _pair(lines: list[str], index: int) -> tuple[str, str]:
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    return lines[index].strip(), following


def _copied_block(lines: list[str], index: int, above: list[str]) -> bool:
    """Lines ``index`` to ``index + BLOCK_LINES - 1`` of the suggestion equal as many lines
    in a row above the cursor, most of them substantial (similar functions share a line
    or two legitimately; a copied body shares more)."""
    block = [line.strip() for line in lines[index : index + BLOCK_LINES]]
    if len(block) < BLOCK_LINES or not all(block):
        return False
    if sum(substantial(line) for line in block) < BLOCK_LINES - 1:
        return False
    size = len(block)
    return any(above[i : i + size] == block for i in range(len(above) - size + 1))


def _repeated_stretch(text: str) -> Echo | None:
    """A stretch with a letter or digit in it, repeated three times in a row: cut after
    its first occurrence."""
    for match in _REPEATED.finditer(text):
        unit = match.group(1)
        if any(c.isalnum() for c in unit) and unit.strip():
            kept = match.start() + len(unit)
            return Echo(kept, "loop", unit.strip())
    return None


def cut_repeated_lines(text: str, line_prefix: str, following: str, above: str = "") -> str:
    """``text`` cut before its first echo (see :func:`find_echo`), trailing space dropped."""
    echo = find_echo(text, line_prefix, above, following)
    return text if echo is None else text[: echo.kept].rstrip()


def cut_at_scope_end(text: str, stop: Callable[[str], int | None]) -> str:
    """Apply a streaming stop check once more with the last line taken as complete."""
    keep = stop(text + "\n")
    return text if keep is None else text[: min(keep, len(text))]
