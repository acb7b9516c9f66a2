"""One report never rotates away the history: string settings are bounded, a line of
the log has a size limit (an oversized report is shortened with a note, or refused), and
the log rotates only when it is already over its limit."""

from __future__ import annotations

from pathlib import Path

from edgewise.config import Settings, parse_settings
from edgewise.report.ledger import MAX_BYTES, Ledger, ReportLog
from edgewise.schemas import load_schema
from tests.unit.test_ledger import real_reports

HUGE = "X" * 3_000_000  # the currency that made every report a multi-megabyte line


def string_settings(schema: dict, prefix: str = "") -> dict[str, dict]:
    out: dict[str, dict] = {}
    for key, prop in schema["properties"].items():
        if prop.get("type") == "object":
            out.update(string_settings(prop, f"{prefix}{key}."))
        elif prop.get("type") == "string":
            out[prefix + key] = prop
    return out


def test_every_string_setting_has_a_length_limit():
    strings = string_settings(load_schema("config"))
    assert {"model", "backend", "pricing.currency"} <= set(strings)
    for key, prop in strings.items():
        if "enum" in prop:  # a choice among short words is bounded by its choices
            assert max(len(choice) for choice in prop["enum"]) <= 16, key
            continue
        assert 0 < prop["maxLength"] <= 4096, key
    assert strings["pricing.currency"]["maxLength"] <= 16


def test_a_three_megabyte_currency_is_refused_and_the_default_used():
    result = parse_settings({"pricing": {"currency": HUGE, "deviceWatts": 20}})
    assert result.settings.pricing.currency == Settings().pricing.currency == "USD"
    assert result.settings.pricing.device_watts == 20, "the valid keys are kept"
    assert any("pricing.currency" in p and "too long" in p for p in result.problems)
    assert all(len(p) < 500 for p in result.problems), "the problem does not quote it whole"


def test_oversized_reports_never_rotate_away_earlier_reports(tmp_path: Path, tiny_model):
    _, reports = real_reports(tiny_model, None)
    path = tmp_path / "reports.jsonl"
    log = ReportLog(path)  # the default limits
    earlier = [dict(report, id=f"earlier-{n}") for n, report in enumerate(reports)]
    for report in earlier:
        assert log.append(report)
    for number in range(6):  # four completions were enough to lose everything before
        huge = dict(reports[0], id=f"huge-{number}")
        huge["cost"] = dict(huge["cost"], currency=HUGE)
        assert log.append(huge)
    assert not path.with_name("reports.jsonl.1").exists(), "nothing was rotated"
    assert path.stat().st_size < MAX_BYTES
    kept = log.read().reports
    assert [r["id"] for r in kept[: len(earlier)]] == [r["id"] for r in earlier]
    shortened = kept[-1]
    assert shortened["id"] == "huge-5" and shortened["cost"]["currency"].startswith("XXX")
    assert len(shortened["cost"]["currency"]) <= 1025
    assert "shortened for the log" in shortened["log_note"]
    assert Ledger(log).today()["requests"] == len(earlier) + 6


def test_a_report_that_cannot_be_shortened_enough_is_refused_with_the_reason(
    tmp_path: Path, tiny_model
):
    _, reports = real_reports(tiny_model, None)
    log = ReportLog(tmp_path / "reports.jsonl", max_bytes=64 * 1024)
    assert log.append(reports[0])
    many = dict(reports[1], id="many-spans")
    span = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}
    many["confidence"] = dict(many["confidence"], low_spans=[span] * 20000)
    assert log.append(many) is False
    assert "many-spans not logged" in log.errors[-1] and "line limit" in log.errors[-1]
    assert [r["id"] for r in log.read().reports] == [reports[0]["id"]]


def test_rotation_happens_only_once_the_log_is_over_its_limit(tmp_path: Path, tiny_model):
    _, reports = real_reports(tiny_model, None)
    path = tmp_path / "reports.jsonl"
    log = ReportLog(path, max_bytes=100_000, keep=3)  # lines up to 12,500 bytes
    number = 0
    while not path.exists() or path.stat().st_size < 95_000:
        assert log.append(dict(reports[0], id=f"small-{number}"))
        number += 1
    big = dict(reports[0], id="big", context={"padding": "p" * 10_000})
    assert log.append(big)
    rotated = path.with_name("reports.jsonl.1")
    assert not rotated.exists(), "the line that goes over the limit joins the current file"
    assert log.append(dict(reports[0], id="next"))
    assert rotated.exists(), "the next write finds the log over its limit and rotates"
    assert [r["id"] for r in ReportLog(rotated).read().reports][-1] == "big"
    assert [r["id"] for r in log.read().reports][-2:] == ["big", "next"]
