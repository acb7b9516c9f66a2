"""Everything edgewise writes under its state and cache directories is the user's alone
(files 0600, read-only explanations 0400, directories 0700) whatever the umask, and
files an older version left world-readable are narrowed when edgewise next writes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise.calibration.store import CalibrationMap, save_map
from edgewise.lsp.action_commands import write_explanation
from edgewise.model.registry import file_sha256
from edgewise.private_files import private_dir
from edgewise.report.ledger import ReportLog
from tests.unit.test_ledger import real_reports


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: modes must not depend on the user's."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "edgewise"
    monkeypatch.setenv("EDGEWISE_STATE_DIR", str(path))
    return path


def test_the_report_log_and_its_older_files_are_owner_only(
    state: Path, tiny_model: Path, open_umask: None
):
    _, reports = real_reports(tiny_model, None)
    state.mkdir(parents=True, mode=0o755)
    state.chmod(0o755)
    log_path = state / "reports.jsonl"
    older = state / "reports.jsonl.1"
    for path in (log_path, older):  # as an older version left them
        path.write_text("")
        path.chmod(0o644)
    log = ReportLog(log_path)
    assert log.append(reports[0])
    assert mode(state) == 0o700
    assert mode(log_path) == mode(older) == 0o600
    assert mode(state / "reports.jsonl.lock") == 0o600
    assert log.read().reports[0]["id"] == reports[0]["id"]


def test_a_new_report_log_is_owner_only(state: Path, tiny_model: Path, open_umask: None):
    _, reports = real_reports(tiny_model, None)
    log = ReportLog(state / "reports.jsonl")
    assert log.append(reports[0])
    assert mode(state) == 0o700 and mode(state / "reports.jsonl") == 0o600


def test_explanations_are_readable_by_the_owner_only(
    state: Path, tiny_model: Path, open_umask: None
):
    _, reports = real_reports(tiny_model, None)
    explain = next(r for r in reports if r["action"] == "explain")
    state.mkdir(parents=True)
    (state / "explanations").mkdir()
    old = state / "explanations" / "explain-old.md"  # an older version's, world-readable
    old.write_text("old")
    old.chmod(0o444)
    for path in (state, state / "explanations"):
        path.chmod(0o755)
    shown = write_explanation("file:///w/geometry.py", "It computes an area.", explain)
    assert shown.read_text("utf-8").startswith("# Explanation of geometry.py")
    assert mode(shown) == 0o400
    assert mode(state / "explanations") == mode(state) == 0o700
    assert mode(old) == 0o400
    again = write_explanation("file:///w/geometry.py", "Again.", explain)
    assert again == shown and "Again." in shown.read_text("utf-8") and mode(shown) == 0o400


def test_calibration_maps_and_the_hash_cache_are_owner_only(
    state: Path, tmp_path: Path, tiny_model: Path, open_umask: None
):
    cal = CalibrationMap(
        model_sha256="c" * 64,
        model_name="tiny",
        method="platt",
        params={"a": 1.0, "b": 0.0},
        samples=10,
        right=5,
        raw_score="geometric-mean",
    )
    saved = save_map(cal)
    assert saved.parent == state / "calibration"
    assert mode(saved) == 0o600 and mode(saved.parent) == mode(state) == 0o700
    assert not list(saved.parent.glob("*.tmp")), "no temporary file left"
    cache = tmp_path / "cache" / "edgewise"
    digest = file_sha256(tiny_model, cache)
    (entry,) = cache.iterdir()
    assert entry.read_text() == digest
    assert mode(entry) == 0o600 and mode(cache) == 0o700


def test_a_shared_sticky_directory_is_left_alone(tmp_path: Path, open_umask: None):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    assert mode(shared) == 0o1777
    private_dir(shared)
    assert mode(shared) == 0o1777, "a sticky shared folder is not taken over"
