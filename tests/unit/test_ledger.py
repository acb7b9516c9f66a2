"""The cost ledger and its JSON Lines log: totals equal the sum of real reports, one
schema-valid line per report, rotation, and no torn line ever read back as data."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from edgewise.config import Settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.report.ledger import MAX_DELAY_S, QUIET_S, Ledger, ReportLog, local_day
from edgewise.schemas import load_schema

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "actions" / "geometry.py"
SUMMED = {
    "tokens_prompt": ("tokens", "prompt"),
    "tokens_completion": ("tokens", "completion"),
    "tokens_cached": ("tokens", "cached"),
    "energy_wh": ("cost", "energy_wh"),
    "local_cost": ("cost", "local"),
    "cloud_equivalent": ("cost", "cloud_equivalent"),
}


def real_reports(tiny_model: Path, log: ReportLog | None) -> tuple[Engine, list[dict]]:
    """Completions and actions from the real tiny model, through the engine."""
    settings = Settings(model=str(tiny_model), context_length=2048, threads=1, max_tokens=16)
    engine = Engine(settings, allow_download=False, report_log=log)
    text = FIXTURE.read_text("utf-8")
    uri = FIXTURE.as_uri()

    async def run() -> list[dict]:
        out = []
        for line, column in ((4, 8), (9, 4), (14, 8)):
            done = await engine.complete(uri, text, Pos(line, column), "python")
            out.append(done.report)
        for action in ("docstring", "explain"):
            result = await engine.run_action(action, uri, text, Pos(3, 5), Pos(3, 5), "python")
            out.append(result.report)
        return out

    try:
        return engine, asyncio.run(run())
    finally:
        engine.close()


def test_ledger_totals_equal_the_sum_of_the_reports(tiny_model: Path, tmp_path: Path):
    log = ReportLog(tmp_path / "reports.jsonl")
    engine, reports = real_reports(tiny_model, log)
    session = engine.session.ledger.session
    assert session["requests"] == len(reports) == 5
    assert session["completions"] == 3 and session["actions"] == 2
    for key, (group, field) in SUMMED.items():
        assert session[key] == pytest.approx(sum(r[group][field] for r in reports)), key
    assert session["model_seconds"] == pytest.approx(
        sum(r["time_ms"]["total"] for r in reports) / 1000.0
    )
    whole = [r for r in reports if "whole_file" in r["tokens"]]
    assert len(whole) == len(reports), "every report says what the whole file would cost"
    assert all(r["tokens"]["whole_file"] == reports[0]["tokens"]["whole_file"] for r in whole)
    saved = sum(
        r["tokens"]["whole_file"] * r["verified"]["attempts"] - r["tokens"]["prompt"] for r in whole
    )
    assert session["context_saved_tokens"] == saved
    assert session["context_saved_cost"] == pytest.approx(saved * 3.0 / 1_000_000)

    # the log holds exactly these reports, one schema-valid line each
    lines = (tmp_path / "reports.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r["id"] for r in reports]
    for line in lines:
        jsonschema.validate(json.loads(line), load_schema("report"))
    assert engine.session.ledger.today() == {**session, "skipped_lines": 0}


def test_today_counts_every_session_of_today_and_nothing_older(tiny_model: Path, tmp_path: Path):
    path = tmp_path / "reports.jsonl"
    first, earlier = real_reports(tiny_model, ReportLog(path))
    yesterday = dict(earlier[0], id="from-yesterday")
    yesterday["created"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    assert ReportLog(path).append(yesterday)
    second, later = real_reports(tiny_model, ReportLog(path))
    today = second.session.ledger.today()
    assert today["requests"] == len(earlier) + len(later), "both sessions, not yesterday"
    assert today["tokens_prompt"] == sum(r["tokens"]["prompt"] for r in earlier + later)
    assert second.session.ledger.session["requests"] == len(later)
    assert local_day(yesterday["created"]) == dt.date.today() - dt.timedelta(days=1)


def test_an_invalid_report_is_not_logged_and_the_reason_is_kept(tmp_path: Path, tiny_model):
    _, reports = real_reports(tiny_model, None)
    log = ReportLog(tmp_path / "reports.jsonl")
    broken = dict(reports[0])
    broken["tokens"] = {"prompt": -1, "completion": 0, "cached": 0}
    assert log.append(broken) is False
    assert "not logged" in log.errors[0]
    assert not (tmp_path / "reports.jsonl").exists()
    assert log.append(reports[0]) is True


def test_the_ledger_logs_off_the_callers_thread_in_order_as_recorded(tmp_path: Path, tiny_model):
    _, reports = real_reports(tiny_model, None)
    ledger = Ledger(ReportLog(tmp_path / "reports.jsonl"))
    broken = dict(reports[1], id="broken", tokens={"prompt": -1, "completion": 0, "cached": 0})
    changed = dict(reports[2])
    for report in (reports[0], broken, changed):
        ledger.record(report)
    changed["id"] = "changed after it was recorded"
    ledger.flush()
    logged = [r["id"] for r in ledger.log.read().reports]  # type: ignore[union-attr]
    assert logged == [reports[0]["id"], reports[2]["id"]], "in order, as recorded, valid only"
    assert "report broken not logged" in ledger.log.errors[0]  # type: ignore[union-attr]
    assert ledger.session["requests"] == 3, "the totals count every report at once"
    ledger.close()
    ledger.record(reports[3])  # a report after close starts the writer again
    ledger.close()
    assert len(ledger.log.read().reports) == 3  # type: ignore[union-attr]


def test_reports_are_written_in_a_pause_in_typing_and_at_once_on_flush(tmp_path: Path, tiny_model):
    """The schema check holds the GIL, so reports recorded while the user types wait for
    a pause of QUIET_S (never longer than MAX_DELAY_S); flush and close write at once."""
    _, reports = real_reports(tiny_model, None)
    ledger = Ledger(ReportLog(tmp_path / "reports.jsonl"))
    began = time.monotonic()
    for report in reports[:3]:  # keystrokes 50 ms apart: no pause yet
        ledger.record(report)
        time.sleep(0.05)
    deadline = time.monotonic() + MAX_DELAY_S + 5
    while len(ledger.log.read().reports) < 3 and time.monotonic() < deadline:  # type: ignore[union-attr]
        time.sleep(0.02)
    assert len(ledger.log.read().reports) == 3, "written once typing paused"  # type: ignore[union-attr]
    assert time.monotonic() - began >= QUIET_S, "not while the reports kept coming"
    ledger.record(reports[3])
    began = time.monotonic()
    ledger.flush()
    assert time.monotonic() - began < QUIET_S and len(ledger.log.read().reports) == 4  # type: ignore[union-attr]
    ledger.close()


def test_the_log_rotates_at_its_size_limit_and_today_reads_the_rotated_files(
    tmp_path: Path, tiny_model
):
    _, reports = real_reports(tiny_model, None)
    line = dict(reports[0], id="r00")
    size = len(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode()) + 1
    log = ReportLog(tmp_path / "reports.jsonl", max_bytes=size * 8, keep=2)
    for number in range(30):
        assert log.append(dict(reports[0], id=f"r{number:02}"))
    names = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("reports.jsonl"))
    assert names == ["reports.jsonl", "reports.jsonl.1", "reports.jsonl.2", "reports.jsonl.lock"]
    for path in tmp_path.glob("reports.jsonl*"):
        assert path.name.endswith(".lock") or path.stat().st_size <= size * 8
    kept = [r["id"] for r in log.read().reports]
    # rotated once over the limit: .2 [r08..r15] + .1 [r16..r23] + [r24..r29]
    assert kept == [f"r{n:02}" for n in range(8, 30)], "the oldest file went; order kept"
    assert Ledger(log).today()["requests"] == 22


def test_a_partial_last_line_is_never_read_and_the_next_report_is_not_glued_to_it(
    tmp_path: Path, tiny_model
):
    _, reports = real_reports(tiny_model, None)
    path = tmp_path / "reports.jsonl"
    log = ReportLog(path)
    assert log.append(reports[0])
    whole = json.dumps(reports[1]).encode()
    with path.open("ab") as handle:  # a crash in the middle of writing the second line
        handle.write(whole[: len(whole) // 2])
    read = log.read()
    assert [r["id"] for r in read.reports] == [reports[0]["id"]] and read.skipped == 1
    assert log.append(reports[2])
    read = log.read()
    assert [r["id"] for r in read.reports] == [reports[0]["id"], reports[2]["id"]]
    assert read.skipped == 1, "the torn half-line stays unread, alone on its line"


WRITER = """
import json, sys
from edgewise.report.ledger import ReportLog
report = json.loads(sys.stdin.read())
log = ReportLog(__import__("pathlib").Path(sys.argv[1]))
report["context"] = {"padding": "x" * 200000}  # big lines: a kill can land in a write
print("ready", flush=True)
n = 0
while True:
    n += 1
    report["id"] = f"{sys.argv[2]}-{n}"
    log.append(report)
"""


def test_killing_a_writer_mid_write_never_yields_a_torn_report(tmp_path: Path, tiny_model):
    _, reports = real_reports(tiny_model, None)
    path = tmp_path / "reports.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    total_read = 0
    for round_number in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"round{round_number}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(reports[0]).encode())
        child.stdin.close()
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.07 * round_number)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        read = ReportLog(path).read()
        assert read.reports, "the writer wrote whole reports before it was killed"
        for report in read.reports:
            jsonschema.validate(report, load_schema("report"))
            assert report["context"]["padding"] == "x" * 200000
        ids = [r["id"] for r in read.reports]
        assert len(ids) == len(set(ids)), "no report read twice"
        # (rotation may have dropped the oldest file: count this round's own reports)
        assert any(i.startswith(f"round{round_number}-") for i in ids), (
            "this round's writer added reports"
        )
        total_read = len(ids)
        lines = b"".join(p.read_bytes() for p in ReportLog(path).files()).split(b"\n")
        assert len(ids) + read.skipped == len([x for x in lines if x]), "every line accounted"
    assert total_read > 0
