"""Ctrl-C in the middle of a run: every file is either as it was or fully written, and
the report is whole and valid."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

from edgewise.batch.records import Validators
from tests.batch.conftest import read_report, start_refactor, tree_hashes

VALIDATORS = Validators()


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def assert_each_file_original_or_fully_written(project: Path, before: dict, lines: list) -> None:
    records = [line for line in lines if line.get("kind") == "action"]
    after = tree_hashes(project)
    for name, digest in after.items():
        if name not in before:
            continue  # the checks' own marker files
        if digest == before[name]:
            continue
        mine = [r for r in records if r["target"]["file"] == name]
        assert mine, f"{name} changed but has no record"
        assert {r["outcome"] for r in mine} == {"applied"}, name
        assert {r["file_sha256"]["after"] for r in mine} == {digest}, f"{name} half-written"
    assert not [n for n in after if n.endswith(".edgewise-tmp")], "temporary file left behind"
    for record in records:
        if record["outcome"] != "applied":
            name = record["target"]["file"]
            assert after[name] == before[name], f"{name}: {record['outcome']} but changed"


def test_one_ctrl_c_finishes_the_started_files_and_writes_the_summary(
    project: Path, settings_file: Path, cli_env: dict, tmp_path: Path
):
    before = tree_hashes(project)
    report = tmp_path / "r.jsonl"
    process = start_refactor(project, settings_file, cli_env, report,
                             ".", "--action", "docstring", "--apply", "--check", "sleep 0.5")  # fmt: skip
    try:
        wait_for(lambda: report.exists() and report.read_bytes().count(b"\n") >= 1)
        os.kill(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    raw = report.read_bytes()
    assert raw.endswith(b"\n")
    lines = read_report(report)
    for line in lines[:-1]:
        VALIDATORS.record.validate(line)
    summary = lines[-1]
    VALIDATORS.summary.validate(summary)
    assert summary["stopped"] == "interrupted" and summary["exit_code"] == 130
    assert summary["targets"]["remaining"] > 0  # it did stop mid-run
    assert summary["targets"]["processed"] == len(lines) - 1
    assert_each_file_original_or_fully_written(project, before, lines)
    changed = [n for n in before if tree_hashes(project)[n] != before[n]]
    assert changed, "the files already started were finished"


def test_a_second_ctrl_c_kills_the_check_and_restores_its_file(
    project: Path, settings_file: Path, cli_env: dict, tmp_path: Path
):
    before = tree_hashes(project)
    report = tmp_path / "r.jsonl"
    # The check marks that it runs, then takes long: the interrupts arrive during it.
    check = 'touch "$EDGEWISE_FILE.checking"; sleep 60'
    process = start_refactor(project, settings_file, cli_env, report,
                             ".", "--action", "docstring", "--apply", "--check", check)  # fmt: skip
    marker = project / "inventory/models.py.checking"
    try:
        wait_for(marker.exists)
        # the file under check has been written: it holds the new text right now
        assert tree_hashes(project)["inventory/models.py"] != before["inventory/models.py"]
        started = time.monotonic()
        os.kill(process.pid, signal.SIGINT)
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert time.monotonic() - started < 30  # did not wait for the 60 s check
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    lines = read_report(report)
    for line in lines[:-1]:
        VALIDATORS.record.validate(line)
    VALIDATORS.summary.validate(lines[-1])
    assert lines[-1]["stopped"] == "interrupted"
    models = [r for r in lines[:-1] if r["target"]["file"] == "inventory/models.py"]
    assert models and {r["outcome"] for r in models} == {"skipped"}
    assert all("restored" in r["reason"] for r in models)
    after = tree_hashes(project)
    assert after["inventory/models.py"] == before["inventory/models.py"]  # restored
    assert_each_file_original_or_fully_written(project, before, lines)
    assert (
        hashlib.sha256((project / "inventory/models.py").read_bytes()).hexdigest()
        == (before["inventory/models.py"])
    )
