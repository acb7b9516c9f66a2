"""Confidence from the probabilities the model gave its own tokens.

score = the probability of the suggestion's first word and of the character that ends
it: the product of those tokens' probabilities (``first_word_score``). Of the candidate
formulas bench/calibration.py measures on held-out code (bench/formulas.py: geometric
mean, lowest token, first-token margin, length, joint probability, ...) it is the one that best predicts
both whether the whole line is right and whether its first word is (see README). The
geometric mean (as mean log p), the lowest token probability and the first-token
margin are reported beside it; `edgewise calibrate` maps it to the share right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# The name of the formula bench/calibration.py picked on held-out positions (see README);
# calibration maps record it, so a map fitted on another score is never applied to this one.
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
    score = first_word_score(pieces, probs)
    return Confidence(score, mean, min(probs), first_margin, spans, threshold)


def first_word_score(pieces: list[str], probs: list[float]) -> float | None:
    """Probability of the first word (and the character that ends it): the product of the
    probabilities of the tokens that spell it."""
    if not probs:
        return None
    return math.exp(sum(math.log(max(p, 1e-12)) for p in probs[: first_word_tokens(pieces)]))


def first_word_tokens(pieces: list[str]) -> int:
    """How many tokens spell the suggestion's first word and the character that ends it
    (a punctuation mark counts as a word of its own): the model must be sure of both."""
    text = ""
    for index, piece in enumerate(pieces):
        text += piece
        body = text.lstrip()
        if not body:
            continue
        if not _word_char(body[0]) or any(not _word_char(c) for c in body[1:]):
            return index + 1
    return len(pieces)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


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
