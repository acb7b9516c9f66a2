"""A temporary copy of a real small project, and `edgewise refactor` run as users run it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "batch_project"
CLI = [sys.executable, "-m", "edgewise.cli", "refactor"]
# Files of the fixture that the docstring action has targets in.
SOURCE_FILES = (
    "inventory/models.py",
    "inventory/pricing.py",
    "inventory/report.py",
    "scripts/import_csv.py",
    "web/src/cart.ts",
    "web/src/format.ts",
)
IGNORED_FILES = ("vendor/legacy_client.py", "web/src/api.gen.ts")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    lines: list[dict[str, Any]]  # the report file, parsed

    @property
    def records(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("kind") == "action"]

    @property
    def summary(self) -> dict[str, Any]:
        assert self.lines and self.lines[-1]["kind"] == "summary", self.stderr
        return self.lines[-1]


def copy_project(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest)
    (dest / "dot-gitignore").rename(dest / ".gitignore")
    return dest


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under root (symlinks not followed) and the sha256 of its bytes."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def read_report(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "shop")


@pytest.fixture
def settings_file(tmp_path: Path, tiny_model: Path) -> Path:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"model": str(tiny_model), "actionMaxTokens": 16}))
    return path


@pytest.fixture
def cli_env(state_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["EDGEWISE_STATE_DIR"] = str(state_dir)
    env["XDG_CACHE_HOME"] = str(state_dir / "cache")
    return env


@pytest.fixture
def refactor(project: Path, settings_file: Path, cli_env: dict[str, str], tmp_path: Path):
    """Runs `edgewise refactor` in the project folder with the tiny model."""

    def run(*args: str, report: Path | None = None, timeout: float = 300) -> Run:
        report = report or tmp_path / "report.jsonl"
        command = [*CLI, "--settings", str(settings_file), "--report", str(report), *args]
        done = subprocess.run(
            command, cwd=project, env=cli_env, capture_output=True, text=True, timeout=timeout
        )
        return Run(done.returncode, done.stdout, done.stderr, read_report(report))

    return run


def start_refactor(
    project: Path, settings_file: Path, env: dict[str, str], report: Path, *args: str
) -> subprocess.Popen[str]:
    command = [*CLI, *args, "--settings", str(settings_file), "--report", str(report)]
    return subprocess.Popen(
        command,
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def parse_errors(path: Path) -> int:
    """ERROR/MISSING nodes in the file's tree-sitter tree."""
    from edgewise.actions.verify import count_errors
    from edgewise.context.languages import LanguageRegistry

    language = LanguageRegistry().for_document(path.name)
    assert language is not None
    return count_errors(language.parser().parse(path.read_bytes()))
