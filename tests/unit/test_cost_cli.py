"""`edgewise cost` as a user runs it: text, JSON and CSV from one log; bad input gets a
clear message, exit code 2, and changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

from tests.unit.test_cost_budget import report

CLI = [sys.executable, "-m", "edgewise.cli", "cost"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_text_json_and_csv_agree_on_one_log(tmp_path: Path):
    now = dt.datetime.now().astimezone().isoformat()
    log = tmp_path / "reports.jsonl"
    log.write_text(
        "".join(json.dumps(report(f"r{n}", created=now)) + "\n" for n in range(3)) + '{"torn',
        "utf-8",
    )
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"costComparison": {"priceMultiplier": 3}}))
    before = log.read_bytes()
    as_json = json.loads(
        run("--log", str(log), "--settings", str(settings), "--json", cwd=tmp_path).stdout
    )
    assert as_json["month"]["totals"]["requests"] == 3
    assert abs(as_json["month"]["totals"]["total_cost"] - 0.09) < 1e-12
    assert as_json["price_multiplier"] == 3 and as_json["skipped_lines"] == 1
    rows = list(csv.DictReader(io.StringIO(run("--log", str(log), "--csv", cwd=tmp_path).stdout)))
    total = [r for r in rows if r["period"] == "this month" and r["item"] == "edgewise total"]
    assert abs(float(total[0]["cost"]) - 0.09) < 1e-9 and total[0]["requests"] == "3"
    text = run("--log", str(log), "--settings", str(settings), cwd=tmp_path).stdout
    assert "same tokens at mid-size hosted model (×3)" in text
    assert "1 unreadable line(s) in the log were left out." in text
    assert log.read_bytes() == before, "reading changes nothing"


def test_bad_input_is_said_clearly_and_exits_2(tmp_path: Path):
    missing = run("--log", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2 and "no report log at" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    broken = run("--settings", str(bad), cwd=tmp_path)
    assert broken.returncode == 2 and "--settings" in broken.stderr
    assert "Traceback" not in broken.stderr
    both = run("--json", "--csv", cwd=tmp_path)
    assert both.returncode == 2 and "not allowed with" in both.stderr
