"""Progress: a rich bar on a terminal, plain log lines in a pipe; diffs stay on stdout."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import threading
from pathlib import Path

from tests.batch.conftest import CLI


def test_on_a_terminal_a_progress_bar_shows_targets_tokens_cost_and_eta(
    project: Path, settings_file: Path, cli_env: dict
):
    master, slave = pty.openpty()
    env = dict(cli_env, COLUMNS="140", TERM="xterm")
    process = subprocess.Popen(
        [*CLI, "web", "--action", "docstring", "--settings", str(settings_file)],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=slave,
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
        stdout, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
        reader.join(timeout=10)
        os.close(master)
    assert process.returncode == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert "edgewise refactor" in screen and "eta" in screen
    assert re.search(r"\b9/9\b", screen)  # targets done of total
    assert re.search(r"\d+ tok \$\d+\.\d{6}", screen)  # running tokens and cost
    assert b"--- a/web/src/cart.ts" in stdout  # the diff went to stdout, not the terminal
    assert "--- a/web" not in screen


def test_in_a_pipe_progress_is_plain_lines(project: Path, settings_file: Path, cli_env: dict):
    done = subprocess.run(
        [*CLI, "web", "--action", "docstring", "--settings", str(settings_file)],
        cwd=project, env=cli_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("edgewise: [")]
    assert len(lines) == 9
    assert re.match(
        r"edgewise: \[1/9\] proposed web/src/cart.ts::lineTotal \(\d+\+\d+ tok", lines[0]
    )
    assert all("eta" in line for line in lines)
    assert "\x1b[" not in done.stderr  # no terminal escapes in a log
    assert done.stderr.splitlines()[-1].startswith("edgewise: dry-run: 9 of 9 target(s)")
