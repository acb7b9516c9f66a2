"""Calibration maths, numpy only: Platt scaling, isotonic regression (pool adjacent
violators), expected calibration error, reliability tables and AUROC.

A calibration map turns the raw confidence score into the probability that such a
suggestion was right, measured on labelled samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-6


def logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    odds: np.ndarray = np.log(q / (1 - q))
    return odds


def _sigmoid(z: np.ndarray) -> np.ndarray:
    p: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return p


def fit_platt(scores: np.ndarray, labels: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """P(right) = sigmoid(a * logit(score) + b), fitted by Newton's method on the log loss
    with Platt's smoothed targets (robust when one class is rare)."""
    x = logit(scores)
    y = np.asarray(labels, dtype=np.float64)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = 1.0, float(logit((n_pos + 1) / (len(y) + 2)))
    for _ in range(iterations):
        p = _sigmoid(a * x + b)
        w = np.maximum(p * (1 - p), 1e-12)
        grad = np.array([np.sum((p - target) * x), np.sum(p - target)])
        hess = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
        hess += np.eye(2) * 1e-9
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if np.max(np.abs(step)) < 1e-10:
            break
    return a, b


def apply_platt(params: tuple[float, float], scores: np.ndarray | float) -> np.ndarray:
    a, b = params
    return _sigmoid(a * logit(scores) + b)


def fit_isotonic(scores: np.ndarray, labels: np.ndarray) -> tuple[list[float], list[float]]:
    """Non-decreasing step function (knots x, values y) by pool adjacent violators."""
    order = np.argsort(scores, kind="mergesort")
    x = np.asarray(scores, dtype=np.float64)[order]
    y = np.asarray(labels, dtype=np.float64)[order]
    blocks: list[list[float]] = []  # [sum, count, x_low, x_high]
    for xi, yi in zip(x, y, strict=True):
        blocks.append([yi, 1.0, xi, xi])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s, c, _, hi = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
            blocks[-1][3] = hi
    knots = [(b[2] + b[3]) / 2 for b in blocks]
    values = [b[0] / b[1] for b in blocks]
    return knots, values


def apply_isotonic(
    model: tuple[list[float], list[float]], scores: np.ndarray | float
) -> np.ndarray:
    knots, values = model
    return np.interp(np.asarray(scores, dtype=np.float64), knots, values)


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_score: float
    share_right: float


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width bins over [0, 1]: mean predicted probability vs share right."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1], right=False), 0, bins - 1)
    out = []
    for i in range(bins):
        sel = which == i
        count = int(sel.sum())
        out.append(
            ReliabilityBin(
                float(edges[i]),
                float(edges[i + 1]),
                count,
                float(probs[sel].mean()) if count else float("nan"),
                float(labels[sel].mean()) if count else float("nan"),
            )
        )
    return out


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: count-weighted |mean prob - share right| over bins."""
    table = reliability(probs, labels, bins)
    n = sum(b.count for b in table)
    if n == 0:
        return float("nan")
    return float(sum(b.count * abs(b.mean_score - b.share_right) for b in table if b.count) / n)


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def brier(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((np.asarray(probs) - np.asarray(labels, dtype=np.float64)) ** 2))


def choose_method(scores: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> str:
    """Platt or isotonic, whichever predicts held-out folds of these samples better
    (Brier score, k-fold cross-validation): isotonic needs more data to beat Platt."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if len(scores) < 2 * folds:
        return "platt"
    order = np.random.default_rng(seed).permutation(len(scores))
    loss = {"platt": 0.0, "isotonic": 0.0}
    for k in range(folds):
        held = order[k::folds]
        train = np.setdiff1d(order, held)
        x, y = scores[train], labels[train]
        loss["platt"] += brier(apply_platt(fit_platt(x, y), scores[held]), labels[held])
        loss["isotonic"] += brier(apply_isotonic(fit_isotonic(x, y), scores[held]), labels[held])
    return min(loss, key=lambda m: loss[m])
