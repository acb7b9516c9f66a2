"""What a budget adds to each `edgewise/status` (sent after every request): the budget's
status from its running sums per period, against the same figure summed over the
month's reports on each call (what the tracker would do without them), and against a
status with no budget set. Same process, same run, alternating rounds.

    PYTHONPATH=server python -m bench.budget_status [--reports 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from edgewise.config import Budget
from edgewise.report.budget import BudgetTracker, level_of
from edgewise.report.ledger import Ledger
from edgewise.report.periods import period


def fake_report(n: int, when: dt.datetime) -> dict[str, object]:
    return {
        "id": f"r{n}",
        "kind": "completion",
        "created": when.isoformat(),
        "tokens": {"prompt": 300, "completion": 20, "cached": 250},
        "time_ms": {"total": 400.0, "active": 4000.0},
        "cost": {
            "energy_wh": 0.003,
            "local": 1e-6,
            "cloud_equivalent": 0.001,
            "total": 2e-5,
            "currency": "USD",
        },
    }


def rescan_status(tracker: BudgetTracker, now: dt.datetime) -> dict[str, object]:
    """The status computed by summing every entry of each period on each call."""
    s = tracker.settings
    uses = []
    for kind, limit in (("day", s.daily), ("week", s.weekly), ("month", s.monthly)):
        if limit <= 0:
            continue
        span = period(kind, now, s.week_starts_on, s.start_hour)
        used = sum(a[s.unit] for when, a in tracker._entries if span.holds(when))
        uses.append((100.0 * used / limit, level_of(used, limit, s.warn_at_percent), span))
    percent, level, span = max(uses, key=lambda u: u[0])
    return {"text": f"{span.label}: {percent:.0f} % of budget", "level": level, "percent": percent}


def per_call_us(fn: object, calls: int) -> float:
    assert callable(fn)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=20000, help="reports this month")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    now = dt.datetime.now().astimezone()
    month = period("month", now)
    span = (now - month.start).total_seconds()
    budget = Budget(unit="money", daily=5, weekly=20, monthly=60)
    ledger = Ledger(None)
    tracker = BudgetTracker(ledger, budget, clock=lambda: now)
    none = BudgetTracker(Ledger(None), Budget(), clock=lambda: now)
    tracker.refresh(now)
    for n in range(args.reports):
        ledger.record(fake_report(n, month.start + dt.timedelta(seconds=span * n / args.reports)))
    assert tracker.status(now) is not None
    assert rescan_status(tracker, now)["level"] == tracker.status(now)["level"]  # type: ignore[index]
    kept, rescanned, off = [], [], []
    for _ in range(args.rounds):
        kept.append(per_call_us(lambda: tracker.status(now), args.calls))
        rescanned.append(per_call_us(lambda: rescan_status(tracker, now), max(args.calls // 20, 3)))
        off.append(per_call_us(lambda: none.status(now), args.calls))
    k, r, o = (statistics.median(x) for x in (kept, rescanned, off))
    print(f"reports this month: {args.reports}; median of {args.rounds} alternating rounds")
    print(f"budget status, running sums per period: {k:9.1f} µs per status")
    print(f"budget status, summing the month each call: {r:9.1f} µs per status  ({r / k:.0f}x)")
    print(f"no budget set:                          {o:9.1f} µs per status")


if __name__ == "__main__":
    main()
