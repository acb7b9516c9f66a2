"""Candidate confidence scores, each computed from the generated tokens' text pieces and
the probabilities the model gave them. bench/calibration.py measures how well each
separates right from wrong suggestions and picks one on positions it never reports on;
report/confidence.py reports the pick as ``score``."""

from __future__ import annotations

import math
from collections.abc import Callable

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


def first_word(pieces: list[str], probs: list[float], margin: float | None) -> float | None:
    """Probability of the first word (and its end): the product over its tokens."""
    if not probs:
        return None
    return math.exp(sum(_logs(probs[: first_word_tokens(pieces)])))


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
    "first-word probability": first_word,
    "√(first word × joint)": word_and_line,
}
