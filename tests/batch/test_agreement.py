"""Agreement between samples with the real (tiny) model in a batch run: the extra samples
are seeded, so the same run gives the same agreement, and it is in every record."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.batch.conftest import CLI, read_report


def test_extra_samples_are_seeded_and_their_agreement_is_recorded(
    project: Path, tiny_model: Path, cli_env: dict[str, str], tmp_path: Path
):
    settings = tmp_path / "samples.json"
    settings.write_text(
        json.dumps({"model": str(tiny_model), "actionMaxTokens": 12, "actionSamples": 3})
    )
    runs = []
    for number in range(2):
        report = tmp_path / f"agreement-{number}.jsonl"
        command = [*CLI, "inventory/pricing.py", "--action", "docstring", "--limit", "2"]
        done = subprocess.run(
            [*command, "--settings", str(settings), "--report", str(report)],
            cwd=project,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        records = [r for r in read_report(report) if r["kind"] == "action"]
        assert records, done.stderr
        runs.append(records)
    first, second = runs
    for one, two in zip(first, second, strict=True):
        assert one["target"]["symbol"] == two["target"]["symbol"]
        if one["outcome"] != "proposed":
            continue
        agreement = one["confidence"]["agreement"]
        assert agreement["samples"] == 3 and agreement["seeds"] == [43, 44]
        assert agreement == two["confidence"]["agreement"], "seeded: the same samples"
        assert one["diff"] == two["diff"]
        assert one["verified"]["attempts"] in (1, 2), "extra samples are not attempts"
        assert isinstance(agreement["unsure"], bool)
    assert any(r["outcome"] == "proposed" for r in first), "at least one docstring to compare"
