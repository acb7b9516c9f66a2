"""The command line as a person runs it: `scripts/run` takes paths relative to where it
is run from; `edgewise calibrate` shows its progress with an estimate of the time left
(a bar on a terminal, lines in a pipe) and stops at --time-limit, fitting on what it
measured by then. Real processes, real llama.cpp on the tiny model."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "scripts" / "run"
PROJECT = REPO / "tests" / "fixtures" / "project"


@pytest.fixture
def caller(tmp_path: Path) -> Path:
    """A directory outside the checkout with a project in it (``proj/``)."""
    shutil.copytree(PROJECT, tmp_path / "proj")
    lines = [
        f"def step_{n}(value):\n    total = value * {n} + 1\n    return total\n\n\n"
        for n in range(60)
    ]
    (tmp_path / "proj" / "steps.py").write_text("".join(lines), "utf-8")
    return tmp_path


def env_for(tmp: Path) -> dict[str, str]:
    return {**os.environ, "EDGEWISE_STATE_DIR": str(tmp / "state"), "HF_HUB_OFFLINE": "1"}


def script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(RUN), *args], cwd=cwd, env=env_for(cwd),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_scripts_run_takes_paths_relative_to_the_caller(caller: Path, tiny_model: Path):
    shown = script(
        "context", "proj/files.py", "--line", "7", "--column", "9",
        "--tokenizer", str(tiny_model), "--json", cwd=caller,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["file"] == "proj/files.py"
    # linked into a folder on PATH: still the checkout's edgewise, still the caller's paths
    (caller / "bin").mkdir()
    (caller / "bin" / "edgewise").symlink_to(RUN)
    linked = subprocess.run(
        ["bin/edgewise", "context", "proj/files.py", "--line", "7", "--column", "9",
         "--tokenizer", str(tiny_model), "--json"],
        cwd=caller, env=env_for(caller), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert linked.returncode == 0, linked.stderr
    assert json.loads(linked.stdout)["text"] == json.loads(shown.stdout)["text"]

    calibrated = script(
        "calibrate", "proj", "--samples", "12", "--model", str(tiny_model), cwd=caller
    )
    assert "does not exist" not in calibrated.stderr, calibrated.stderr
    assert "calibrating edgewise-tiny-random on 12 positions from proj" in calibrated.stderr
    # in a pipe: a line every 10 positions and at the end, each with the time left
    progress = [line for line in calibrated.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 2, calibrated.stderr
    assert re.fullmatch(
        r"\[#{20}\] 12/12 \(100%\), \d+ right, elapsed \d+m\d\ds, eta 0m00s", progress[-1]
    ), progress[-1]
    assert re.match(r"\[#{17}\.{3}\] 10/12 \(83%\).* eta \d+m\d\ds$", progress[0]), progress[0]

    missing = script("calibrate", "nothing-here", "--model", str(tiny_model), cwd=caller)
    assert missing.returncode == 1
    assert f"nothing-here does not exist (relative to {caller})" in missing.stderr


def test_calibrate_stops_at_the_time_limit_and_fits_on_what_it_measured(
    caller: Path, tiny_model: Path
):
    started = time.monotonic()
    done = subprocess.run(
        [
            "bash", str(RUN), "calibrate", "proj", "--samples", "200",
            "--time-limit", "0.05", "--model", str(tiny_model),
        ],
        cwd=caller, env=env_for(caller), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    took = time.monotonic() - started
    assert "for at most 0m03s" in done.stderr, done.stderr
    found = re.search(r"time limit reached: (\d+) of (\d+) positions measured", done.stderr)
    assert found is not None, done.stderr
    assert 0 < int(found.group(1)) < int(found.group(2))
    assert took < 120, took  # the model load and the fit come on top of the 3 s
    # fitted on those (or, too few for a fit, nothing written, said so)
    assert done.returncode == 0 or "nothing written" in done.stderr, done.stderr

    bad = script("calibrate", "proj", "--time-limit", "0", cwd=caller)
    assert bad.returncode == 2 and "--time-limit must be a positive" in bad.stderr


def test_calibrate_on_a_terminal_shows_a_bar_with_the_time_left(caller: Path, tiny_model: Path):
    master, slave = pty.openpty()
    env = dict(env_for(caller), COLUMNS="140", TERM="xterm")
    process = subprocess.Popen(
        ["bash", str(RUN), "calibrate", "proj", "--samples", "12", "--model", str(tiny_model)],
        cwd=caller, env=env, stdout=subprocess.PIPE, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
        reader.join(timeout=10)
        os.close(master)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert "edgewise calibrate" in screen and "eta" in screen, screen
    assert re.search(r"\b12/12\b", screen)
    assert re.search(r"\d+ right", screen)
