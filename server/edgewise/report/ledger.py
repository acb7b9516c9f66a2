"""Session totals over reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def totals(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "requests": 0,
        "tokens_prompt": 0,
        "tokens_completion": 0,
        "tokens_cached": 0,
        "model_seconds": 0.0,
        "energy_wh": 0.0,
        "local_cost": 0.0,
        "cloud_equivalent": 0.0,
        "currency": None,
    }
    for report in reports:
        out["requests"] += 1
        out["tokens_prompt"] += report["tokens"]["prompt"]
        out["tokens_completion"] += report["tokens"]["completion"]
        out["tokens_cached"] += report["tokens"]["cached"]
        out["model_seconds"] += report["time_ms"]["total"] / 1000.0
        out["energy_wh"] += report["cost"]["energy_wh"]
        out["local_cost"] += report["cost"]["local"]
        out["cloud_equivalent"] += report["cost"]["cloud_equivalent"]
        out["currency"] = out["currency"] or report["cost"]["currency"]
    return out
