"""A batch run does not guess: a settings file with a value it cannot use (NaN included,
which Python's JSON reader takes) stops before anything runs, with exit code 2 and a
message that says nothing was run, and the files are untouched."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.batch.conftest import CLI


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_nan_setting_stops_the_run_before_anything_runs(
    project: Path, tiny_model: Path, cli_env: dict, tmp_path: Path
):
    settings = tmp_path / "bad.json"
    settings.write_text(f'{{"model": "{tiny_model}", "temperature": NaN}}', "utf-8")
    before = snapshot(project)
    done = subprocess.run(
        [*CLI, ".", "--action", "docstring", "--apply", "--settings", str(settings)],
        cwd=project, env=cli_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "'temperature': not a finite number" in done.stderr
    assert "nothing was run" in done.stderr and "using the default" not in done.stderr
    assert snapshot(project) == before
