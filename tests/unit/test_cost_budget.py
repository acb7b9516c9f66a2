"""Cost a team can budget with: amortised hardware, active time, where the tokens went,
periods, budgets and the hosted comparison, each against numbers worked out by hand;
and a ledger written before these fields existed still reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from edgewise.config import Budget, CostComparison, HostedPrice, Pricing, RemotePricing, Settings
from edgewise.errors import BudgetExceeded
from edgewise.report.budget import BudgetTracker
from edgewise.report.comparison import break_even, cost_summary, fixed_per_month, to_csv
from edgewise.report.cost import active_ms, compute_cost, compute_remote_cost, hardware_per_hour
from edgewise.report.cost_text import bar, render
from edgewise.report.ledger import Ledger, ReportLog, totals, unit_costs
from edgewise.report.outcomes import Outcomes, make_event
from edgewise.report.periods import period

TZ = dt.timezone(dt.timedelta(hours=1))  # the tests' local time: fixed, no DST


# --- one request's cost -------------------------------------------------------------


def shown(budget: BudgetTracker) -> dict[str, Any]:
    """The status a budget sends (it is set in these tests)."""
    status = budget.status()
    assert status is not None
    return status


def test_hardware_per_hour_of_active_use_by_hand():
    pricing = Pricing(
        hardware_price=2000.0,
        hardware_life_years=4.0,
        hardware_hours_per_day=8.0,
        hardware_share=0.5,
    )
    # 2000 x 0.5 / (4 x 365 x 8) = 1000 / 11680 = 0.0856164...
    assert hardware_per_hour(pricing) == pytest.approx(1000 / 11680)
    assert hardware_per_hour(Pricing()) == 0.0, "no hardware price: not counted"


def test_active_time_is_the_gap_since_the_previous_request_unless_it_was_a_pause():
    assert active_ms(120.0, None) == 120.0  # the first request: its model time
    assert active_ms(120.0, 30_000.0) == 30_000.0  # 30 s of work since the previous
    assert active_ms(120.0, 6 * 60_000.0) == 120.0  # a 6-minute pause is idle time
    assert active_ms(5_000.0, 1_000.0) == 5_000.0  # never less than the model time


def test_report_cost_energy_hardware_and_sum_by_hand():
    pricing = Pricing(
        device_watts=30.0,
        price_per_kwh=0.3,
        hardware_price=2000.0,
        hardware_life_years=4.0,
        hardware_hours_per_day=8.0,
        hardware_share=0.5,
    )
    # 30 W x 1 s = 0.008333 Wh; x 0.3 / 1000 = 0.0000025
    # hardware: 60 s active = 1/60 h x 0.0856164 = 0.00142694
    cost = compute_cost(pricing, 1000.0, 100, 10, active=60_000.0)
    assert cost.energy_wh == pytest.approx(30 / 3600)
    assert cost.local == pytest.approx(0.0000025)
    assert cost.hardware == pytest.approx(1000 / 11680 / 60)
    assert cost.total == pytest.approx(0.0000025 + 1000 / 11680 / 60)
    assert compute_cost(pricing, 1000.0, 100, 10).hardware == pytest.approx(1000 / 11680 / 3600), (
        "without an active time: the model time"
    )


def test_remote_server_per_gpu_hour_and_per_token_by_hand():
    remote = RemotePricing(
        device_watts=0.0,
        price_per_kwh=0.0,
        input_per_million=1.0,
        output_per_million=2.0,
        per_hour=2.0,
    )
    # billed: 1000 x 1 / 1e6 + 500 x 2 / 1e6 = 0.002; GPU: 30 min x 2/h = 1.0
    cost = compute_remote_cost(remote, Pricing(), 400.0, 1000, 500, active=1_800_000.0)
    assert cost.local == pytest.approx(0.002)
    assert cost.hardware == pytest.approx(1.0)
    assert cost.total == pytest.approx(1.002)


# --- totals, units and where the tokens went ----------------------------------------


def report(
    rid: str,
    kind: str = "completion",
    *,
    prompt: int = 100,
    completion: int = 20,
    ms: float = 1000.0,
    local: float = 0.01,
    hardware: float | None = 0.02,
    active: float | None = 60_000.0,
    created: str = "2026-12-02T10:00:00+01:00",
    **extra,
) -> dict:
    """A report as the ledger stores it (``hardware``/``active`` None: an old line)."""
    out: dict[str, Any] = {
        "id": rid,
        "kind": kind,
        "action": "inline" if kind == "completion" else "docstring",
        "uri": "file:///a.py",
        "range": {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 5}},
        "created": created,
        "model": {"name": "m", "sha256": "unknown"},
        "seed": 0,
        "sampler": {"temperature": 0, "strategy": "greedy"},
        "tokens": {"prompt": prompt, "completion": completion, "cached": 0},
        "time_ms": {"total": ms, "prompt": ms / 2, "generation": ms / 2},
        "cost": {"energy_wh": 0.5, "local": local, "cloud_equivalent": 0.003, "currency": "USD"},
        "confidence": {"score": 0.5, "mean_logprob": -1, "min_prob": 0.1, "low_spans": []},
        "verified": {"syntax_ok": None, "reason": "", "attempts": 1},
    }
    if hardware is not None:
        out["cost"].update(hardware=hardware, total=local + hardware)
    if active is not None:
        out["time_ms"]["active"] = active
    for key, value in extra.items():
        if isinstance(value, dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def test_totals_per_request_per_active_hour_and_per_thousand_tokens_by_hand():
    reports = [report("a"), report("b", active=120_000.0)]
    out = totals(reports)
    assert out["hardware"] == pytest.approx(0.04)
    assert out["total_cost"] == pytest.approx(0.06)
    assert out["active_seconds"] == pytest.approx(180.0)
    units = unit_costs(out)
    # 0.06 over 2 requests, over 0.05 h, over 0.24 thousand tokens
    assert units["per_request"] == pytest.approx({"energy": 0.01, "hardware": 0.02, "total": 0.03})
    assert units["per_active_hour"]["total"] == pytest.approx(0.06 / 0.05)
    assert units["per_1k_tokens"]["hardware"] == pytest.approx(0.04 / 0.24)
    assert unit_costs(totals([]))["per_request"]["total"] is None


def test_where_the_tokens_went_and_the_headline_figures_by_hand():
    reports = [
        report("shown-taken"),  # accepted: 2 lines (range 3..4)
        report("shown-left"),  # shown, never accepted
        report("gated", hidden=True),
        report("late"),  # superseded
        report(  # an action whose first attempt failed and was regenerated, then applied
            "act",
            "action",
            prompt=300,
            completion=100,
            ms=4000.0,
            local=0.04,
            hardware=0.04,
            tokens={"regenerated": 200},
            time_ms={"regenerated": 1000.0},
        ),
        report("broken", "action", verified={"syntax_ok": False, "reason": "x", "attempts": 2}),
        report("batch-refused", "action"),
    ]
    events = [
        make_event("shown-taken", "accepted", 2),
        make_event("late", "superseded"),
        make_event("act", "applied"),
        make_event("batch-refused", "refused"),
        make_event("not-in-this-period", "accepted", 9),  # its report is elsewhere
    ]
    out = totals(reports, events)
    parts = out["outcomes"]
    assert parts["accepted"]["requests"] == 1 and parts["accepted"]["cost"] == pytest.approx(0.03)
    assert parts["ignored"]["requests"] == 1
    assert parts["hidden"]["requests"] == 1
    assert parts["superseded"]["requests"] == 1
    # the action: 400 tokens, 0.08; a quarter of its time (1000 of 4000 ms) regenerated
    assert parts["regenerated"]["tokens"] == 200
    assert parts["regenerated"]["cost"] == pytest.approx(0.02)
    assert parts["applied"]["tokens"] == 200 and parts["applied"]["cost"] == pytest.approx(0.06)
    assert parts["refused"]["requests"] == 2  # failed verification; refused by a batch check
    assert sum(p["cost"] for p in parts.values()) == pytest.approx(out["total_cost"])
    assert sum(p["tokens"] for p in parts.values()) == 5 * 120 + 400 + 120
    # completions cost 4 x 0.03 = 0.12 for 2 accepted lines; actions 0.08 + 2 x 0.03 = 0.14
    assert out["accepted_lines"] == 2
    assert out["cost_per_accepted_line"] == pytest.approx(0.06)
    assert out["applied_changes"] == 1
    assert out["cost_per_applied_change"] == pytest.approx(0.14)


def test_an_old_ledger_line_and_outcome_events_read_back(tmp_path: Path):
    """A line written before hardware, active time and outcome events existed."""
    path = tmp_path / "reports.jsonl"
    old = report("old", hardware=None, active=None, local=0.01, ms=2000.0)
    new = report("new")
    event = make_event("new", "accepted", 2)
    path.write_text("".join(json.dumps(x) + "\n" for x in (old, new, event)), "utf-8")
    read = ReportLog(path).read()
    assert [r["id"] for r in read.reports] == ["old", "new"]
    assert read.events == [event] and read.skipped == 0
    out = totals(read.reports, read.events)
    assert out["hardware"] == pytest.approx(0.02), "the old line counts no hardware"
    assert out["total_cost"] == pytest.approx(0.01 + 0.03), "its total is its local cost"
    assert out["active_seconds"] == pytest.approx(2.0 + 60.0), "its model time is active"
    assert out["outcomes"]["accepted"]["requests"] == 1


def test_outcome_events_are_logged_and_the_session_agrees_with_the_log(tmp_path: Path):
    log = ReportLog(tmp_path / "reports.jsonl")
    ledger = Ledger(log)
    now = dt.datetime.now(dt.UTC).isoformat()
    for rid in ("a", "b"):
        assert log._validator.is_valid(report(rid, created=now))
        ledger.record(report(rid, created=now))
    ledger.outcome(make_event("a", "accepted", 2))
    assert not log.append({"event": "outcome", "report": "a", "outcome": "eaten"})
    ledger.close()
    today = ledger.today()
    assert today["outcomes"] == ledger.session["outcomes"]
    assert today["accepted_lines"] == ledger.session["accepted_lines"] == 2


# --- periods and budgets -------------------------------------------------------------


def test_periods_start_on_the_chosen_weekday_and_hour():
    now = dt.datetime(2026, 12, 8, 10, 0, tzinfo=TZ)  # a Tuesday
    week = period("week", now, "wednesday", 9)
    assert week.start.astimezone(TZ) == dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ)
    assert week.end.astimezone(TZ) == dt.datetime(2026, 12, 9, 9, 0, tzinfo=TZ)
    early = dt.datetime(2026, 12, 9, 8, 59, tzinfo=TZ)  # Wednesday before 9: last week
    assert period("week", early, "wednesday", 9).start == week.start
    month = period("month", dt.datetime(2026, 12, 1, 5, 0, tzinfo=TZ), "monday", 6)
    assert month.start.astimezone(TZ) == dt.datetime(2026, 11, 1, 6, 0, tzinfo=TZ)
    assert month.end.astimezone(TZ) == dt.datetime(2026, 12, 1, 6, 0, tzinfo=TZ)
    day = period("day", dt.datetime(2026, 12, 31, 23, 0, tzinfo=TZ), "monday", 0)
    assert day.end.astimezone(TZ) == dt.datetime(2027, 1, 1, 0, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def local_zone(monkeypatch: pytest.MonkeyPatch):
    """Local time is UTC+1 for these tests (periods are in local time)."""
    monkeypatch.setenv("TZ", "Etc/GMT-1")
    import time

    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def tracker(budget: Budget, now: dt.datetime) -> tuple[Ledger, BudgetTracker]:
    ledger = Ledger(None)
    return ledger, BudgetTracker(ledger, budget, clock=lambda: now)


def test_budget_levels_warning_once_then_the_pause_and_resume():
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=TZ)  # a Wednesday
    ledger, budget = tracker(
        Budget(unit="tokens", weekly=1000, warn_at_percent=60, at_limit="stop"), now
    )
    assert budget.status() == {"text": "this week: 0 % of budget", "level": "ok", "percent": 0.0}
    for n in range(5):  # 5 x 120 tokens = 600: 60 %
        ledger.record(report(f"r{n}", created=now.isoformat()))
    assert budget.status() == {
        "text": "this week: 60 % of budget",
        "level": "warn",
        "percent": 60.0,
    }
    (warning,) = budget.news()
    assert "60 % of the budget used (600 tokens of 1,000 tokens)" in warning
    assert budget.news() == [], "said once"
    budget.check()  # still running
    for n in range(4):  # 1080 tokens: over
        ledger.record(report(f"s{n}", created=now.isoformat()))
    status = shown(budget)
    assert (
        status["level"] == "limit" and status["text"] == "this week: 108 % of budget (model paused)"
    )
    with pytest.raises(
        BudgetExceeded, match="paused until Mon 07 Dec 00:00.*edgewise.resumeBudget"
    ):
        budget.check()
    assert "resumeBudget" in budget.news()[0]
    assert "until Mon 07 Dec 00:00" in budget.resume()
    budget.check()  # running again
    assert shown(budget)["text"] == "this week: 108 % of budget (resumed)"
    # the next week starts afresh (a report of last week does not count)
    budget.clock = lambda: dt.datetime(2026, 12, 7, 0, 1, tzinfo=TZ)
    assert shown(budget)["percent"] == 0.0


def test_warn_only_never_pauses_and_a_raised_budget_unpauses():
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=TZ)
    ledger, budget = tracker(Budget(unit="money", daily=0.05, at_limit="warn"), now)
    for n in range(3):  # 3 x 0.03 = 0.09 of 0.05
        ledger.record(report(f"r{n}", created=now.isoformat()))
    assert shown(budget)["level"] == "limit" and budget.blocked() is None
    assert "goes on" in budget.news()[-1]
    budget.configure(Budget(unit="money", daily=0.05, at_limit="stop"))
    assert budget.blocked() is not None
    budget.configure(Budget(unit="money", daily=1.0, at_limit="stop"))
    assert budget.blocked() is None and shown(budget)["percent"] == pytest.approx(9.0)


def test_energy_budget_counts_watt_hours_and_the_worst_period_is_shown():
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=TZ)
    ledger, budget = tracker(Budget(unit="energyWh", daily=10, monthly=2), now)
    ledger.record(report("r", created=now.isoformat()))  # 0.5 Wh
    assert shown(budget)["text"] == "this month: 25 % of budget"


# --- the comparison ------------------------------------------------------------------


def comparison_settings(**pricing) -> Settings:
    return Settings(
        pricing=Pricing(**pricing),
        cost_comparison=CostComparison(
            hosted=(HostedPrice(name="hosted", input_per_million=3.0, output_per_million=15.0),),
            price_multiplier=2.0,
            subscription_name="sub",
            subscription_per_month=20.0,
        ),
    )


def test_hosted_price_points_with_multiplier_subscription_and_break_even_by_hand():
    settings = comparison_settings(
        hardware_price=1200.0, hardware_life_years=1.0, hardware_hours_per_day=24.0
    )
    # hardware: 1200 / (365 x 24) per hour x 24 h x 365/12 days = 100 a month
    assert fixed_per_month(settings) == pytest.approx(100.0)
    # the last 30 days: 1e6 prompt + 1e5 generated tokens, 3.0 of electricity
    rolling = {
        **totals([]),
        "tokens_prompt": 1_000_000,
        "tokens_completion": 100_000,
        "local_cost": 3.0,
    }
    hosted, sub = break_even(settings, rolling)
    scale = (365 / 12) / 30
    # hosted x2: 1e6 x 6 / 1e6 + 1e5 x 30 / 1e6 = 6 + 3 = 9 in 30 days
    assert hosted["per_month"] == pytest.approx(9 * scale)
    assert hosted["saving_per_month"] == pytest.approx((9 - 3) * scale)
    assert hosted["payback_months"] == pytest.approx(1200 / ((9 - 3) * scale))
    # per token: 9 / 1.1e6 there, 3 / 1.1e6 here: break-even at 100 / (6 / 1.1e6)
    assert hosted["break_even_tokens_per_month"] == pytest.approx(100 / (6 / 1.1e6))
    assert sub["per_month"] == 20.0
    assert sub["payback_months"] == pytest.approx(1200 / (20 - 3 * scale))
    assert sub["break_even_tokens_per_month"] is None


def test_cost_summary_week_month_csv_and_text_from_one_read(tmp_path: Path):
    now = dt.datetime(2026, 12, 9, 12, 0, tzinfo=TZ)  # Wednesday
    path = tmp_path / "reports.jsonl"
    lines = [
        report("this-week", created="2026-12-08T10:00:00+01:00"),
        report("last-week", created="2026-12-03T10:00:00+01:00"),
        report("last-month", created="2026-11-20T10:00:00+01:00"),
        make_event("this-week", "accepted", 2),
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    summary = cost_summary(comparison_settings(), ReportLog(path).read(), now)
    assert summary["week"]["totals"]["requests"] == 1
    assert summary["month"]["totals"]["requests"] == 2
    assert summary["week"]["totals"]["cost_per_accepted_line"] == pytest.approx(0.015)
    (hosted, sub) = summary["month"]["alternatives"]
    # 200 prompt x 6 / 1e6 + 40 generated x 30 / 1e6 = 0.0012 + 0.0012
    assert hosted["cost"] == pytest.approx(0.0024)
    assert sub["cost"] == 20.0 and summary["week"]["alternatives"][1]["cost"] == pytest.approx(
        20.0 * 7 / (365 / 12)
    )
    csv_text = to_csv(summary)
    assert (
        "this month,2026-12-01T00:00+01:00,2027-01-01T00:00+01:00,edgewise total,0.060000,USD,240,2"
        in csv_text
    )
    assert "this week" in csv_text and "outcome: accepted" in csv_text
    text = render(summary)
    assert "per accepted line" in text and "$0.0150" in text
    assert "same tokens at hosted (×2)" in text and "█" in text
    assert json.loads(json.dumps(summary)) == summary, "JSON as it is"


def test_unicode_bars_in_eighths():
    assert bar(1.0, 1.0, width=4) == "████"
    assert bar(0.5, 1.0, width=3) == "█▌"  # 12 eighths: one full block and a half
    assert bar(0.0, 1.0) == ""
    assert bar(1e-9, 1.0) == "▏", "a cost too small to see still shows"


def test_accepting_a_typed_through_text_credits_the_call_that_made_it():
    """A type-through report costs nothing itself (no model call): accepting it moves
    the report of the call that produced the text to accepted too, its lines once."""
    from edgewise.pipeline.services import Session

    session = Session()
    origin = report("origin")
    through = report("through", local=0.0, hardware=0.0, cached_from="origin", cache="type-through")
    through["tokens"].update(prompt=0, completion=0)
    session.add(origin)
    session.add(through)
    assert session.outcome("through", "applied")  # what edgewise.inlineAccepted records
    out = session.ledger.session
    assert out["outcomes"]["accepted"]["requests"] == 2
    assert out["outcomes"]["accepted"]["cost"] == pytest.approx(0.03)
    assert out["outcomes"]["ignored"]["requests"] == 0
    assert out["accepted_lines"] == 2, "the lines of the text accepted, counted once"
    assert not session.outcome("unknown-id", "applied")


def test_a_lost_request_with_null_figures_is_counted_without_its_unknowns():
    lost = report("lost")
    lost["tokens"].update(prompt=None, completion=None, cached=None)
    lost["cost"]["cloud_equivalent"] = None
    split = Outcomes()  # (the totals' own sums of null figures: issue 18's lost requests)
    split.add_report(lost)
    split.add_report(report("ok"))
    assert split.buckets["ignored"]["tokens"] == 120
    assert split.buckets["ignored"]["cost"] == pytest.approx(0.06)
    now = dt.datetime.now(TZ)
    ledger, budget = tracker(Budget(unit="tokens", daily=1000), now)
    budget.add(dict(lost, created=now.isoformat()))
    assert shown(budget)["percent"] == 0.0


def test_a_servers_running_split_keeps_a_bounded_number_of_reports():
    split = Outcomes(keep=2)
    for rid in ("old", "mid", "new"):
        split.add_report(report(rid))
    split.add_event(make_event("old", "accepted", 3))  # forgotten: stays where it was
    split.add_event(make_event("new", "accepted", 1))
    assert split.buckets["accepted"]["requests"] == 1 and split.accepted_lines == 1
    assert split.buckets["ignored"]["requests"] == 2
    for n in range(10):  # events about unknown reports do not pile up either
        split.add_event(make_event(f"never-{n}", "superseded"))
    assert len(split._early) == 2


def test_a_rotated_log_last_written_before_the_window_is_not_read(tmp_path: Path):
    import os

    log = ReportLog(tmp_path / "reports.jsonl")
    rotated = tmp_path / "reports.jsonl.1"
    rotated.write_text(json.dumps(report("last-year")) + "\n", "utf-8")
    (tmp_path / "reports.jsonl").write_text(json.dumps(report("now")) + "\n", "utf-8")
    year_ago = dt.datetime.now().timestamp() - 365 * 86400
    os.utime(rotated, (year_ago, year_ago))
    assert [r["id"] for r in log.read().reports] == ["last-year", "now"]
    assert [r["id"] for r in log.read(since=year_ago + 86400).reports] == ["now"]
    assert [r["id"] for r in log.read(since=year_ago - 86400).reports] == ["last-year", "now"]
