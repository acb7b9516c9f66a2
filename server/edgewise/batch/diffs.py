"""Unified diffs as git prints them (a/ b/ labels, a marker for a missing final newline)."""

from __future__ import annotations

import difflib


def lines_of(text: str) -> list[str]:
    """Lines with their endings, split at \\n only (a CR stays part of its line)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_diff(before: str, after: str, name: str, context: int = 3) -> str:
    if before == after:
        return ""
    old, new = lines_of(before), lines_of(after)
    out: list[str] = []
    lines = difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=context)
    for number, line in enumerate(lines):
        if number < 2:  # the ---/+++ header
            out.append(line.rstrip("\n") + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
