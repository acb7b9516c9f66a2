"""Nobody's bytes are lost: not a file named as the report, not a save made during a
--check, not appends through a handle held across the commit, not a file left unchecked
by kill -9 or a dropped terminal, not a read-only file."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgewise.batch.records import Validators
from tests.batch.conftest import CLI, read_report, start_refactor, tree_hashes

VALIDATORS = Validators()
PRICING = "inventory/pricing.py"


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def leftovers(root: Path) -> list[str]:
    """Temporary files and kept originals edgewise left behind."""
    return [
        p.name for p in root.rglob(".*") if p.name.endswith((".edgewise-tmp", ".edgewise-orig"))
    ]


def kill_group(pid_file: Path) -> None:
    """Ends the check's process group (it runs in its own session)."""
    try:
        os.killpg(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


# --- 1. the report path --------------------------------------------------------------


def test_a_report_path_holding_a_users_file_is_refused_and_left_alone(
    project: Path, settings_file: Path, cli_env: dict
):
    notes = project / "NOTES.md"
    notes.write_text("# Notes\n\nthings to remember\n")
    before = tree_hashes(project)
    done = subprocess.run(
        [*CLI, ".", "--action", "docstring", "--settings", str(settings_file), "--report", "NOTES.md"],
        cwd=project, env=cli_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "not a file edgewise wrote" in done.stderr and "NOTES.md" in done.stderr
    assert tree_hashes(project) == before  # NOTES.md byte for byte, nothing else made


def test_a_report_of_an_earlier_run_is_appended_to_never_truncated(
    project: Path, refactor, tmp_path: Path
):
    report = tmp_path / "night.jsonl"
    first = refactor(PRICING, "--action", "docstring", "--limit", "1", report=report)
    assert first.returncode == 0, first.stderr
    kept = report.read_bytes()
    second = refactor(PRICING, "--action", "docstring", "--limit", "1", report=report)
    assert second.returncode == 0, second.stderr
    assert report.read_bytes().startswith(kept)
    assert [line["kind"] for line in second.lines] == ["action", "summary"] * 2
    assert second.lines[1]["id"] != second.lines[3]["id"]


# --- 2. a save during a failing --check ------------------------------------------------


def test_a_file_saved_during_a_failing_check_keeps_the_users_save(project: Path, refactor):
    pricing = project / PRICING
    original = pricing.read_bytes()
    # the user's editor saves (write a copy, rename it over) while the check runs
    check = (
        'cp "$EDGEWISE_FILE" ../saved && cp ../saved ../edgewise-version && '
        'printf "# saved by the user\\n" >> ../saved && mv ../saved "$EDGEWISE_FILE"; exit 1'
    )
    run = refactor(PRICING, "--action", "docstring", "--apply", "--check", check)
    assert run.returncode == 1, run.stderr
    edgewise_version = (project.parent / "edgewise-version").read_bytes()
    assert edgewise_version != original
    assert pricing.read_bytes() == edgewise_version + b"# saved by the user\n"  # not restored
    records = run.records
    assert records and {r["outcome"] for r in records} == {"rejected-by-check"}
    assert all("changed after edgewise wrote it" in r["reason"] for r in records)
    assert "changed after edgewise wrote it" in run.stderr
    assert {r["file_sha256"]["after"] for r in records} == {tree_hashes(project)[PRICING]}
    assert run.summary["files"]["restored"] == 0
    assert not leftovers(project)


# --- 3. appends through a handle held across the commit --------------------------------

APPENDER = """
import os, sys, time
path, ready, done = sys.argv[1:4]
with open(path, "a") as handle:          # opened before edgewise replaces the file
    print("open", flush=True)
    while not os.path.exists(ready):
        time.sleep(0.01)
    handle.write("LOG = 'appended while edgewise committed'\\n")
    handle.flush()
open(done, "w").close()
"""


def test_appends_through_a_handle_held_across_the_commit_are_not_lost(
    project: Path, settings_file: Path, cli_env: dict, tmp_path: Path
):
    pricing = project / PRICING
    original = pricing.read_bytes()
    ready, done = project / "inventory/pricing.py.checking", project.parent / "appended"
    appender = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(pricing), str(ready), str(done)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert appender.stdout is not None and appender.stdout.readline() == "open\n"
    check = 'touch "$EDGEWISE_FILE.checking"; while [ ! -e ../appended ]; do sleep 0.02; done'
    report = tmp_path / "r.jsonl"
    process = start_refactor(project, settings_file, cli_env, report,
                             PRICING, "--action", "docstring", "--apply", "--check", check)  # fmt: skip
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        appender.kill()
        process.kill()
    appender.wait(10)
    line = b"LOG = 'appended while edgewise committed'\n"
    data = pricing.read_bytes()
    assert data == original + line, "the appended line is in the file, after the original"
    records = [r for r in read_report(report) if r.get("kind") == "action"]
    assert records and "applied" not in {r["outcome"] for r in records}  # no success claimed
    assert all("another process wrote to the file" in r["reason"] for r in records)
    assert process.returncode == 1, stderr
    assert "another process wrote to the file" in stderr
    assert not leftovers(project)


# --- 4. kill -9 and SIGHUP while --check runs -------------------------------------------

SLOW_CHECK = (  # the first check marks that it runs (its process group id) and waits
    'if [ ! -e ../once ]; then touch ../once; echo $$ > "$EDGEWISE_FILE.checking"; '
    "sleep 60; fi; exit {code}"
)


@pytest.mark.parametrize(
    "code, outcome", [(1, "rejected-by-check"), (0, "applied")], ids=["check-fails", "check-passes"]
)
def test_kill_9_during_check_is_finished_by_resume(
    project: Path, settings_file: Path, cli_env: dict, tmp_path: Path, refactor, code, outcome
):
    pricing = project / PRICING
    original = pricing.read_bytes()
    marker = project / "inventory/pricing.py.checking"
    report = tmp_path / "night.jsonl"
    check = SLOW_CHECK.format(code=code)
    process = start_refactor(project, settings_file, cli_env, report,
                             PRICING, "--action", "docstring", "--apply", "--check", check)  # fmt: skip
    try:
        wait_for(lambda: marker.exists() and marker.read_text().strip() != "")
        written = pricing.read_bytes()
        assert written != original  # the edit is on disk, unchecked
        process.kill()
        process.wait(30)
    finally:
        process.kill()
        kill_group(marker)
    marker.unlink()
    assert pricing.read_bytes() == written
    assert not read_report(report)  # nothing recorded: the run died mid-check
    # a plain dry run on that report refuses to go past what is left unchecked
    dry = refactor(PRICING, "--action", "docstring", report=report)
    assert dry.returncode == 2 and "--resume" in dry.stderr
    assert pricing.read_bytes() == written
    # --resume runs the check again: a failure restores the original bytes, a pass keeps
    resumed = refactor(PRICING, "--action", "docstring", "--resume", report=report)
    assert resumed.returncode == code, resumed.stderr
    assert pricing.read_bytes() == (original if code else written)
    assert f"{PRICING}: {outcome}" in resumed.stderr
    earlier = [line for line in resumed.lines if line.get("kind") == "action"]
    assert earlier and {r["outcome"] for r in earlier} == {outcome}
    for record in earlier:
        VALIDATORS.record.validate(record)
        assert "on resume" in record["reason"] and record["check"]["exit_code"] == code
        assert record["batch"]["run"] != resumed.summary["id"]  # the killed run's record
        assert record["file_sha256"]["after"] == tree_hashes(project)[PRICING]
    assert resumed.summary["recovered"] == [
        {"path": PRICING, "outcome": outcome, "reason": earlier[0]["reason"]}
    ]
    assert resumed.summary["targets"]["done_before"] == (len(earlier) if code else 0)
    assert not leftovers(project) and not leftovers(tmp_path)


def test_sighup_during_check_restores_the_file_and_reports_it(
    project: Path, settings_file: Path, cli_env: dict, tmp_path: Path
):
    pricing = project / PRICING
    original = pricing.read_bytes()
    marker = project / "inventory/pricing.py.checking"
    report = tmp_path / "r.jsonl"
    process = start_refactor(project, settings_file, cli_env, report,
                             PRICING, "--action", "docstring", "--apply", "--check", SLOW_CHECK.format(code=1))  # fmt: skip
    try:
        wait_for(lambda: marker.exists() and marker.read_text().strip() != "")
        os.kill(process.pid, signal.SIGHUP)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        kill_group(marker)
    assert process.returncode == 130, stderr
    assert pricing.read_bytes() == original
    lines = read_report(report)
    records = [line for line in lines if line.get("kind") == "action"]
    assert records and {r["outcome"] for r in records} == {"skipped"}
    assert all("interrupted during --check; the file was restored" in r["reason"] for r in records)
    VALIDATORS.summary.validate(lines[-1])
    assert lines[-1]["stopped"] == "interrupted"
    assert not leftovers(project) and not leftovers(tmp_path)


# --- 5. files edgewise must not change, listed with the reason --------------------------


def test_read_only_and_oversized_files_are_refused_with_the_reason(project: Path, refactor):
    pricing = project / PRICING
    pricing.chmod(0o444)
    big = project / "inventory/big.py"
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(70_000))
    big.write_text(body)
    assert big.stat().st_size > 2 * 1024 * 1024
    before = tree_hashes(project)
    run = refactor("inventory", "--action", "docstring", "--apply")
    assert run.returncode == 1, run.stderr
    assert stat.S_IMODE(pricing.stat().st_mode) == 0o444
    after = tree_hashes(project)
    assert (
        after[PRICING] == before[PRICING]
        and after["inventory/big.py"] == before["inventory/big.py"]
    )
    refused = {r["path"]: r["reason"] for r in run.summary["refused"]}
    assert "read-only (mode 0444)" in refused[PRICING]
    assert "larger than 2 MB" in refused["inventory/big.py"]
    assert f"skipped {PRICING}: read-only" in run.stderr
    assert "skipped inventory/big.py: larger than 2 MB" in run.stderr
    assert {r["target"]["file"] for r in run.records} == {
        "inventory/models.py",
        "inventory/report.py",
    }
    # alone, the big file is not "no targets, exit 0": it is refused, and the run says so
    alone = refactor("inventory/big.py", "--action", "docstring")
    assert alone.returncode == 1, alone.stderr
    assert alone.summary["refused"] == [
        {"path": "inventory/big.py", "reason": refused["inventory/big.py"]}
    ]


def test_a_file_swapped_for_a_symlink_before_its_write_is_not_replaced(
    project: Path, refactor, tmp_path: Path
):
    # the check after the first file written swaps format.ts (the last file) for a
    # symlink to an identical copy outside the project
    outside = tmp_path / "outside.ts"
    fmt = project / "web/src/format.ts"
    check = (
        f"if [ ! -e ../swapped ]; then touch ../swapped; cp web/src/format.ts {outside}; "
        f"ln -sf {outside} web/src/format.ts; fi"
    )
    run = refactor(".", "--action", "docstring", "--apply", "--check", check)
    assert run.returncode == 1, run.stderr
    assert fmt.is_symlink() and Path(os.readlink(fmt)) == outside
    mine = [r for r in run.records if r["target"]["file"] == "web/src/format.ts"]
    assert mine and {r["outcome"] for r in mine} == {"skipped"}
    assert all("symlink" in r["reason"] for r in mine)
    assert not leftovers(project)


def test_a_rewritten_file_keeps_its_mode(project: Path, refactor):
    pricing = project / PRICING
    pricing.chmod(0o750)
    run = refactor(PRICING, "--action", "docstring", "--apply")
    assert run.returncode == 0, run.stderr
    assert {r["outcome"] for r in run.records} == {"applied"}
    assert stat.S_IMODE(pricing.stat().st_mode) == 0o750
    assert not leftovers(project)
