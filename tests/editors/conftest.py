"""Real editors (headless Neovim, Emacs in batch mode) driving the real `edgewise serve`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "project" / "files.py"
SERVER_CMD = [sys.executable, "-m", "edgewise.cli", "serve"]
SETUP_HINT = "run scripts/setup-editors (it installs the editors the tests need)"


def tiny_settings(model: Path, **extra: Any) -> dict[str, Any]:
    return {
        "model": str(model),
        "debounceMs": 0,
        "minConfidence": 0,  # the tiny model's text is noise: show it all the same
        "trimBelow": 0,  # ... and never cut it where the model was unsure (it always is)
        "maxTokens": 24,
        "contextLength": 2048,
        # the 5 s default cap could cut a generation short on a busy machine, and the
        # tests compare texts of two requests at the same place
        "maxCompletionMs": 60000,
        **extra,
    }


def editor_env(home: Path) -> dict[str, str]:
    """The environment of the editor and of the server it starts: this checkout's sources
    first, no network for models, every state/config folder under ``home``."""
    env = dict(os.environ)
    paths = [str(ROOT / "server"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env.update(
        PYTHONPATH=os.pathsep.join(paths),
        HF_HUB_OFFLINE="1",
        EDGEWISE_STATE_DIR=str(home / "edgewise-state"),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        # `edgewise` (for vim.lsp.enable with the plain lsp/ config) comes from this venv
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    )
    return env


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_editor(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Finished:
    """Run an editor in its own process group; the whole group is killed on timeout."""
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(
            f"{cmd[0]} did not finish in {timeout} s\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
        ) from None
    finally:
        try:  # servers the editor started and left behind
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return Finished(proc.returncode, out, err, time.monotonic() - start)


def read_json(path: Path, finished: Finished) -> dict[str, Any]:
    assert path.is_file(), (
        f"the editor wrote no results (exit {finished.returncode})\n"
        f"stdout:\n{finished.stdout[-3000:]}\nstderr:\n{finished.stderr[-3000:]}"
    )
    return json.loads(path.read_text("utf-8"))


def find_tool(name: str, *extra_dirs: Path) -> str | None:
    path = os.pathsep.join([*(str(d) for d in extra_dirs), os.environ.get("PATH", "")])
    return shutil.which(name, path=path)


def make_project(root: Path) -> Path:
    """A small Python project: the fixture file and a root marker."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, root / "files.py")
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', "utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")
