"""What the context engine saved: the prompt actually sent versus the whole file."""

from __future__ import annotations

from typing import Any

from edgewise.config import Pricing


def attach_whole_file(report: dict[str, Any], whole_file: int | None, pricing: Pricing) -> None:
    """Add ``tokens.whole_file`` (the tokenizer's count of the whole document) and
    ``cost.context_saving``: what sending the whole file with each model call instead of
    the prompts actually sent would have cost more at the cloud input price (negative
    when the prompts were larger than the file)."""
    if whole_file is None:
        return
    report["tokens"]["whole_file"] = whole_file
    calls = int(report.get("verified", {}).get("attempts") or 1)
    saved = whole_file * calls - report["tokens"]["prompt"]
    report["cost"]["context_saving"] = saved * pricing.cloud_input_per_million / 1_000_000.0
