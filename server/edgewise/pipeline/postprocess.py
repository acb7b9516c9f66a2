"""A completion's text, from the model's reply to what is shown: where generation stops
(one line or the enclosing scope), the multi-line cut of a reply that ran out, trailing
space and overlap with the text after the cursor, and lines that repeat the next ones."""

from __future__ import annotations

from typing import Any

from edgewise.context.multiline import opens_block
from edgewise.context.overlap import cut_at_scope_end, cut_repeated_lines
from edgewise.model.stops import CompletionStop, MarkerStop

FOLLOWING_LINES = 20  # lines after the cursor a suggestion must not repeat


def wants_multiline(line_prefix: str, line_suffix: str, node: Any = None) -> bool:
    """Multi-line at a blank line or right after a block opener; one line mid-expression,
    in a comment or string, or after an inline ':' (the syntax tree's ``node`` before the
    cursor decides when there is one)."""
    if line_suffix.strip():
        return False
    stripped = line_prefix.rstrip()
    if not stripped:
        return True
    decided = opens_block(node) if node is not None else None
    if decided is not None:
        return decided
    return stripped.endswith((":", "{", "(", "[", "=>"))


def completion_stop(line_prefix: str, multiline: bool) -> CompletionStop:
    return CompletionStop(line_prefix, multiline)


def marker_stop(markers: tuple[str, ...]) -> MarkerStop:
    return MarkerStop(markers)


def trim_completion(text: str, line_suffix: str) -> str:
    """Drop trailing blank space and any overlap with the text already after the cursor."""
    out = text.rstrip()
    rest = line_suffix.strip()
    if rest and out.endswith(rest):
        out = out[: len(out) - len(rest)].rstrip()
    return out


def finish_completion(
    text: str,
    stop_reason: str,
    line_prefix: str,
    line_suffix: str,
    multiline: bool,
    following: str,
) -> str:
    """The text to insert: a multi-line reply that ran out is cut where its scope ended
    (its last line counts too), then trimmed, then cut before a line that repeats the
    next line of the document (``following``: the lines after the cursor's)."""
    if multiline and stop_reason != "stop":
        text = cut_at_scope_end(text, completion_stop(line_prefix, True))
    inserted = trim_completion(text, line_suffix)
    return cut_repeated_lines(inserted, line_prefix, following)
