"""Confidence from the probabilities the model gave its own tokens.

score = the probability of the suggestion's first word and of the character that ends
it: the product of those tokens' probabilities (report/formulas.py). Of the candidate
formulas measured by bench/calibration.py on held-out code (geometric mean, lowest token,
first-token margin, length, joint probability, ...) it is the one that best predicts
both whether the whole line is right and whether its first word is (see README). The
geometric mean (as mean log p), the lowest token probability and the first-token
margin are reported beside it; `edgewise calibrate` maps it to the share right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from edgewise.report.formulas import FORMULAS

# The formula bench/calibration.py picked on held-out positions (see README).
SCORE_FORMULA = "first-word probability"


@dataclass(frozen=True)
class CharSpan:
    """A low-confidence stretch of generated text, as character offsets into it."""

    start: int
    end: int
    min_prob: float
    text: str


@dataclass(frozen=True)
class Confidence:
    score: float | None
    mean_logprob: float | None
    min_prob: float | None
    first_margin: float | None
    spans: list[CharSpan] = field(default_factory=list)
    threshold: float = 0.3


def score_tokens(
    pieces: list[str],
    probs: list[float],
    threshold: float,
    first_margin: float | None = None,
) -> Confidence:
    """Score generated tokens (their text pieces and chosen-token probabilities)."""
    if not probs:
        return Confidence(None, None, None, first_margin, [], threshold)
    logs = [math.log(max(p, 1e-12)) for p in probs]
    mean = sum(logs) / len(logs)
    spans = low_spans(pieces, probs, threshold)
    score = FORMULAS[SCORE_FORMULA](pieces, probs, first_margin)
    return Confidence(score, mean, min(probs), first_margin, spans, threshold)


def low_spans(pieces: list[str], probs: list[float], threshold: float) -> list[CharSpan]:
    """Merge consecutive tokens below the threshold into spans (whitespace trimmed)."""
    spans: list[CharSpan] = []
    offset = 0
    current: tuple[int, int, float] | None = None
    for piece, prob in zip(pieces, probs, strict=True):
        start, end = offset, offset + len(piece)
        offset = end
        if prob < threshold and piece.strip():
            if current is None:
                current = (start, end, prob)
            else:
                current = (current[0], end, min(current[2], prob))
        elif current is not None and piece.strip():
            spans.append(_span(pieces, current))
            current = None
    if current is not None:
        spans.append(_span(pieces, current))
    return spans


def _span(pieces: list[str], bounds: tuple[int, int, float]) -> CharSpan:
    text = "".join(pieces)
    start, end, prob = bounds
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    return CharSpan(start + lead, end - trail, prob, text[start + lead : end - trail])
