"""A completion's text, from the model's reply to what is shown: where generation stops
(one line or the enclosing scope), the multi-line cut of a reply that ran out, trailing
space and overlap with the text after the cursor, echoes of the lines around the cursor
(``context/overlap.py``), and the cut where the model stops being sure.

Every cut that changes what is shown is recorded (:class:`Cut`): the report carries
them, so a person can see where and why a suggestion was cut."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgewise.context.multiline import opens_block
from edgewise.context.overlap import cut_at_scope_end, find_echo
from edgewise.model.stops import CompletionStop, MarkerStop
from edgewise.report.confidence import first_word_tokens

FOLLOWING_LINES = 20  # lines after the cursor a suggestion must not repeat
PRECEDING_LINES = 40  # lines before the cursor a suggestion must not copy
CUT_TEXT_CHARS = 80  # of the text a cut dropped, what the report quotes


@dataclass(frozen=True)
class Cut:
    """One cut: ``kept`` characters of the suggestion stayed, ``text`` (the start of what
    was cut away) went, for ``reason``: ``unsure`` (a token under ``threshold``: its
    probability ``prob``), ``echo_suffix`` (the text after the cursor), ``echo_below``,
    ``echo_above`` or ``loop`` (see context/overlap.py)."""

    reason: str
    kept: int
    text: str
    prob: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"reason": self.reason, "kept": self.kept, "text": self.text}
        if self.prob is not None:
            data["prob"] = round(self.prob, 6)
        if self.threshold is not None:
            data["threshold"] = self.threshold
        return data


@dataclass(frozen=True)
class Finished:
    """The text to insert and the cuts that made it."""

    text: str
    cuts: list[Cut] = field(default_factory=list)

    @property
    def echoed(self) -> bool:
        return any(cut.reason.startswith("echo") or cut.reason == "loop" for cut in self.cuts)


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


def confident_length(
    pieces: Sequence[str], probs: Sequence[float], threshold: float
) -> tuple[int, float] | None:
    """Where the model stops being sure: the characters of ``"".join(pieces)`` before the
    first token after the first word whose probability is under ``threshold``, moved
    back to the start of a word the cut would split; and that token's probability. None
    when no token after the first word is under it (or ``threshold`` is 0). The first
    word (and the character that ends it) is never cut: ``minConfidence`` judges it."""
    if threshold <= 0 or not probs:
        return None
    first = first_word_tokens(list(pieces))
    offset = 0
    for index, (piece, prob) in enumerate(zip(pieces, probs, strict=False)):
        if index >= first and prob < threshold:
            text = "".join(pieces)
            floor = len("".join(pieces[:first]))
            return _word_start(text, offset, floor), prob
        offset += len(piece)
    return None


def _word_start(text: str, offset: int, floor: int) -> int:
    """``offset`` moved back so it does not split a word (never below ``floor``)."""
    while offset > floor and _word_char(text[offset - 1]) and _word_char(text[offset]):
        offset -= 1
    return offset


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def finish_completion(
    text: str,
    stop_reason: str,
    line_prefix: str,
    line_suffix: str,
    multiline: bool,
    following: str,
    *,
    above: str = "",
    pieces: Sequence[str] = (),
    probs: Sequence[float] = (),
    trim_below: float = 0.0,
) -> Finished:
    """The text to insert: a multi-line reply that ran out is cut where its scope ended
    (its last line counts too), then trimmed of trailing space and of the text after the
    cursor (``line_suffix``), cut before its first echo of the lines ``above`` or
    ``following`` the cursor line or of itself, and cut where the model stopped being sure
    (a token of ``pieces`` — the model's text — under ``trim_below``; 0: never)."""
    cuts: list[Cut] = []
    if multiline and stop_reason != "stop":
        text = cut_at_scope_end(text, completion_stop(line_prefix, True))
    inserted = text.rstrip()
    trimmed = trim_completion(inserted, line_suffix)
    if trimmed != inserted:
        cuts.append(Cut("echo_suffix", len(trimmed), _quote(inserted[len(trimmed) :])))
        inserted = trimmed
    echo = find_echo(inserted, line_prefix, above, following)
    if echo is not None:
        kept = inserted[: echo.kept].rstrip()
        cuts.append(Cut(echo.reason, len(kept), _quote(inserted[len(kept) :])))
        inserted = kept
    sure = confident_length(pieces, probs, trim_below)
    if sure is not None and sure[0] < len(inserted):
        kept = inserted[: sure[0]].rstrip()
        dropped = _quote(inserted[len(kept) :])
        cuts.append(Cut("unsure", len(kept), dropped, sure[1], trim_below))
        inserted = kept
    return Finished(inserted, cuts)


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= CUT_TEXT_CHARS else text[: CUT_TEXT_CHARS - 1] + "…"
