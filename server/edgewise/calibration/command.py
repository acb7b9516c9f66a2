"""`edgewise calibrate [PATH] [--samples N]`: measure the configured model on the user's
own code and store the map from its raw confidence to the share of suggestions that
were right, for this model file (by sha256)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from edgewise.batch.progress import duration
from edgewise.calibration.fit import (
    apply_isotonic,
    apply_platt,
    choose_method,
    ece,
    fit_isotonic,
    fit_platt,
)
from edgewise.calibration.fit import reliability as reliability_table
from edgewise.calibration.measure import Sample, measure
from edgewise.calibration.progress import CalibrationProgress
from edgewise.calibration.sampling import sample_positions
from edgewise.calibration.store import CalibrationMap, save_map
from edgewise.config import Settings
from edgewise.engine import Engine
from edgewise.report.confidence import SCORE_FORMULA

MIN_SUGGESTIONS = 10
MEASURE_TIME_CAP_MS = 600_000
RAW_SCORE = SCORE_FORMULA


class CalibrationError(Exception):
    """Calibration could not be done; nothing was written."""


def fit_map(
    samples: list[Sample],
    *,
    sha256: str,
    model_name: str,
    method: str = "auto",
    source: str = "",
) -> CalibrationMap:
    shown = [s for s in samples if s.suggested]
    if len(shown) < MIN_SUGGESTIONS:
        raise CalibrationError(
            f"only {len(shown)} of {len(samples)} positions got a suggestion; at least "
            f"{MIN_SUGGESTIONS} are needed: point PATH at more code or raise --samples"
        )
    scores = np.array([s.score for s in shown], dtype=np.float64)
    labels = np.array([s.right for s in shown], dtype=np.float64)
    params: dict[str, Any]
    if method == "auto":
        method = choose_method(scores, labels)
    if method == "platt":
        a, b = fit_platt(scores, labels)
        params = {"a": a, "b": b}
        fitted = apply_platt((a, b), scores)
    elif method == "isotonic":
        knots, values = fit_isotonic(scores, labels)
        params = {"knots": knots, "values": values}
        fitted = apply_isotonic((knots, values), scores)
    else:
        raise CalibrationError(f"unknown method {method!r} (auto, platt or isotonic)")
    table = [
        {
            "low": b.low,
            "high": b.high,
            "count": b.count,
            "mean_calibrated": None if b.count == 0 else round(b.mean_score, 4),
            "share_right": None if b.count == 0 else round(b.share_right, 4),
        }
        for b in reliability_table(fitted, labels)
    ]
    return CalibrationMap(
        model_sha256=sha256,
        model_name=model_name,
        method=method,
        params=params,
        samples=len(shown),
        right=int(labels.sum()),
        raw_score=RAW_SCORE,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        source=source,
        table=table,
    )


def print_reliability(samples: list[Sample], cal: CalibrationMap, out: TextIO = sys.stdout) -> None:
    shown = [s for s in samples if s.suggested]
    raw = np.array([s.score for s in shown], dtype=np.float64)
    labels = np.array([s.right for s in shown], dtype=np.float64)
    calibrated = np.array([cal.apply(x) for x in raw])
    print(
        f"{len(samples)} positions, {len(shown)} suggestions, {int(labels.sum())} right "
        f"({labels.mean():.1%}); first word right on "
        f"{np.mean([s.word_right for s in shown]):.1%}",
        file=out,
    )
    print("reliability (bins of the calibrated score; fitted on these same samples):", file=out)
    print(f"  {'bin':<11} {'n':>5} {'raw mean':>9} {'calibrated':>11} {'right':>7}", file=out)
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(calibrated, edges[1:-1]), 0, 9)
    for i in range(10):
        sel = which == i
        if not sel.any():
            continue
        print(
            f"  {edges[i]:.1f}–{edges[i + 1]:.1f}   {int(sel.sum()):>5} {raw[sel].mean():>9.3f} "
            f"{calibrated[sel].mean():>11.3f} {labels[sel].mean():>7.3f}",
            file=out,
        )
    print(
        f"expected calibration error: raw score {ece(raw, labels):.3f}, "
        f"calibrated {ece(calibrated, labels):.3f}",
        file=out,
    )


async def run_calibration(
    settings: Settings,
    roots: list[Path],
    count: int,
    *,
    seed: int = 0,
    method: str = "auto",
    state: Path | None = None,
    out: TextIO = sys.stdout,
    progress: TextIO | None = sys.stderr,
    time_limit_s: float | None = None,
) -> tuple[CalibrationMap, Path]:
    """Measure the model at ``count`` positions of ``roots`` (or as many as
    ``time_limit_s`` allows) and store the fitted map."""
    for root in roots:
        if not root.exists():
            where = "" if root.is_absolute() else f" (relative to {Path.cwd()})"
            raise CalibrationError(f"{root} does not exist{where}")
    positions = sample_positions(roots, count, seed=seed)
    if not positions:
        raise CalibrationError(
            f"no code found under {', '.join(map(str, roots))} in a language edgewise reads"
        )
    # what the model would suggest, not what a busy machine finishes in time: no time cap
    settings = dataclasses.replace(settings, max_completion_ms=MEASURE_TIME_CAP_MS, debounce_ms=0)
    engine = Engine(settings, report_log=False)  # measuring, not suggesting: no ledger
    try:
        backend = await engine.host.backend()
        info = backend.info()
        for note in engine.host.notes:
            print(note, file=progress or out)
        engine.host.notes.clear()
        if progress is not None:
            limit = f", for at most {duration(time_limit_s)}" if time_limit_s else ""
            print(
                f"calibrating {info.name} on {len(positions)} positions from "
                f"{', '.join(map(str, roots))}{limit}",
                file=progress,
            )
        bar = CalibrationProgress(progress, len(positions), time_limit_s) if progress else None
        if bar is not None:
            bar.start()
        deadline = time.monotonic() + time_limit_s if time_limit_s else None
        try:
            samples = await measure(
                engine,
                positions,
                on_sample=lambda _, sample: bar.advance(sample.right) if bar else None,
                deadline=deadline,
            )
        finally:
            if bar is not None:
                bar.stop()
    finally:
        engine.close()
    if len(samples) < len(positions):
        print(
            f"time limit reached: {len(samples)} of {len(positions)} positions measured; "
            "fitting on those",
            file=progress or out,
        )
    cal = fit_map(
        samples,
        sha256=info.sha256,
        model_name=info.name,
        method=method,
        source=", ".join(str(r.resolve()) for r in roots),
    )
    path = save_map(cal, state)
    print_reliability(samples, cal, out)
    print(f"calibration for {info.name} ({info.sha256[:12]}…) written to {path}", file=out)
    return cal, path
