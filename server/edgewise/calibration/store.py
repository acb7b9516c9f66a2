"""Calibration maps, one per model file (by sha256), in the user's state directory.

``<state_dir>/calibration/<sha256>.json`` holds the fitted map from the raw confidence
score to the probability of being right, how many samples it was fitted on, and the
reliability table `edgewise calibrate` printed. Reports of that model then carry the
calibrated score (``confidence.calibrated: true``) beside the raw one.

A model edgewise ships with (the packaged SmolLM2) also has a bundled map, fitted by
bench/calibration.py on code nobody on the team wrote; the user's own map wins.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from edgewise.calibration.fit import apply_isotonic, apply_platt
from edgewise.paths import state_dir
from edgewise.private_files import private_dir, write_private
from edgewise.report.confidence import SCORE_FORMULA

FORMAT_VERSION = 1


@dataclass(frozen=True)
class CalibrationMap:
    model_sha256: str
    model_name: str
    method: str  # platt | isotonic
    params: dict[str, Any]  # platt: a, b; isotonic: knots, values
    samples: int
    right: int
    raw_score: str  # the formula of the raw score the map reads
    created: str = ""
    source: str = ""  # what it was fitted on (a path)
    table: list[dict[str, Any]] = field(default_factory=list)
    version: int = FORMAT_VERSION
    origin: str = "user"  # user (edgewise calibrate) | bundled (shipped with edgewise)

    def apply(self, raw: float) -> float:
        if self.method == "platt":
            value = apply_platt((self.params["a"], self.params["b"]), raw)
        elif self.method == "isotonic":
            value = apply_isotonic((self.params["knots"], self.params["values"]), raw)
        else:
            raise ValueError(f"unknown calibration method {self.method!r}")
        return float(np.clip(value, 0.0, 1.0))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationMap:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def calibration_dir() -> Path:
    return state_dir() / "calibration"


def map_path(sha256: str, base: Path | None = None) -> Path:
    return (base or calibration_dir()) / f"{sha256}.json"


def save_map(cal: CalibrationMap, base: Path | None = None) -> Path:
    path = map_path(cal.model_sha256, base)
    private_dir(path.parent, top=state_dir())
    return write_private(path, cal.to_json())  # a running server never reads half a file


@cache
def bundled_map(sha256: str) -> CalibrationMap | None:
    """The map shipped with edgewise for this model file, if any."""
    entry = resources.files(__package__).joinpath("bundled", f"{sha256}.json")
    if not entry.is_file():
        return None
    data = json.loads(entry.read_text("utf-8"))
    data["origin"] = "bundled"
    return CalibrationMap.from_dict(data)


class CalibrationStore:
    """Loads the map of a model when asked, re-reading it when `calibrate` rewrote it.
    The user's map (state directory) wins over a bundled one; ``bundled=False`` ignores
    bundled maps (benchmarks that need raw scores)."""

    def __init__(self, base: Path | None = None, bundled: bool = True) -> None:
        self._base = base
        self._bundled = bundled
        self._cache: dict[str, tuple[int, CalibrationMap | None]] = {}
        self.problems: list[str] = []  # unreadable maps, to tell the user once

    def get(self, sha256: str) -> CalibrationMap | None:
        if not sha256 or sha256 == "unknown":
            return None
        path = map_path(sha256, self._base or calibration_dir())
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            self._cache.pop(sha256, None)
            return bundled_map(sha256) if self._bundled else None
        cached = self._cache.get(sha256)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        cal: CalibrationMap | None
        try:
            cal = CalibrationMap.from_dict(json.loads(path.read_text("utf-8")))
            cal.apply(0.5)  # a map that cannot be applied is as bad as none
            if cal.raw_score != SCORE_FORMULA:
                raise ValueError(
                    f"it maps the {cal.raw_score!r} score, reports now carry the "
                    f"{SCORE_FORMULA!r}: run `edgewise calibrate` again"
                )
        except (OSError, ValueError, TypeError, KeyError) as exc:
            self.problems.append(f"ignoring the calibration map {path}: {exc}")
            cal = None
        self._cache[sha256] = (stamp, cal)
        return cal


def calibrate_confidence(confidence: dict[str, Any], cal: CalibrationMap | None) -> None:
    """Put the calibrated score in a report's confidence object, keeping the raw one."""
    raw = confidence.get("score")
    confidence["raw_score"] = raw
    if cal is None or raw is None:
        confidence["calibrated"] = False
        return
    confidence["score"] = round(cal.apply(float(raw)), 6)
    confidence["calibrated"] = True
    confidence["calibration"] = {
        "method": cal.method,
        "samples": cal.samples,
        "right": cal.right,
        "created": cal.created,
        "source": cal.origin,
    }
