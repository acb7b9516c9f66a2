"""Candidate confidence scores, each computed from the generated tokens' text pieces and
the probabilities the model gave them. bench/calibration.py measures how well each
separates right from wrong suggestions and picks one on positions it never reports on;
the product reports only the pick (``first_word_score`` in report/confidence.py, named
``SCORE_FORMULA``), which this table uses as it is."""

from __future__ import annotations

import math
from collections.abc import Callable

from edgewise.report.confidence import SCORE_FORMULA, first_word_score

Formula = Callable[[list[str], list[float], float | None], float | None]


def _logs(probs: list[float]) -> list[float]:
    return [math.log(max(p, 1e-12)) for p in probs]


def geometric_mean(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    return math.exp(sum(_logs(probs)) / len(probs)) if probs else None


def lowest(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    return min(probs) if probs else None


def first_margin(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    return margin if probs else None


def length_alone(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    """Fewer tokens, higher score (1/n): does length alone predict being right?"""
    return 1.0 / len(probs) if probs else None


def joint(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    """Probability of the whole suggestion: the product of its tokens' probabilities."""
    return math.exp(sum(_logs(probs))) if probs else None


def first_word(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    """Probability of the first word (and its end): the product over its tokens."""
    return first_word_score(pieces, probs)


def word_and_line(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    """Geometric mean of the first word's and the whole suggestion's probabilities."""
    word, line = first_word(pieces, probs, margin), joint(pieces, probs, margin)
    return None if word is None or line is None else math.sqrt(word * line)


FORMULAS: dict[str, Formula] = {
    "geometric-mean probability": geometric_mean,
    "lowest token probability": lowest,
    "first-token margin": first_margin,
    "length alone (1/tokens)": length_alone,
    "joint probability": joint,
    SCORE_FORMULA: first_word,
    "√(first word × joint)": word_and_line,
}
