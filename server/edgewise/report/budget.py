"""Budgets per day, week and month (settings ``budget``): how much of each is used, the
status line that says so, the warnings, and the pause at the limit.

The figures are the ledger's: at the start (and when a period turns over, or the
settings change) the tracker reads the reports of the current periods from the log,
every edgewise process's; then it adds each report this process records. Reports other
processes write meanwhile are counted at the next read (:meth:`BudgetTracker.refresh`,
which the cost views call)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from edgewise.config import Budget
from edgewise.errors import BudgetExceeded
from edgewise.report.ledger import Ledger, ReadResult
from edgewise.report.outcomes import total_cost
from edgewise.report.periods import PERIODS, Period, created_at, local_now, period

UNITS = {"money": "money", "tokens": "tokens", "energyWh": "Wh"}


@dataclass(frozen=True)
class PeriodUse:
    period: Period
    limit: float
    used: float
    level: str  # ok | warn | limit

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.limit if self.limit > 0 else 0.0


def amount(report: dict[str, object], unit: str) -> float:
    """What one report counts against a budget in ``unit``."""
    tokens = report["tokens"]
    cost = report["cost"]
    assert isinstance(tokens, dict) and isinstance(cost, dict)
    if unit == "tokens":  # a lost request's counts are null (unknown)
        return float((tokens["prompt"] or 0) + (tokens["completion"] or 0))
    if unit == "energyWh":
        return float(cost["energy_wh"])
    return total_cost(cost)


def level_of(used: float, limit: float, warn_at_percent: float) -> str:
    if limit <= 0:
        return "ok"
    if used >= limit:
        return "limit"
    return "warn" if used * 100.0 >= limit * warn_at_percent else "ok"


class BudgetTracker:
    """How much of each budget is used, from the ledger; pauses the model at the limit
    when ``atLimit`` is ``stop`` until the period ends, :meth:`resume` or a larger
    budget."""

    def __init__(
        self,
        ledger: Ledger,
        settings: Budget | None = None,
        clock: Callable[[], dt.datetime] = local_now,
    ) -> None:
        self.ledger = ledger
        self.settings = settings or Budget()
        self.clock = clock
        self._entries: list[tuple[dt.datetime, dict[str, float]]] = []
        self._since: dt.datetime | None = None  # the reads cover reports from here on
        self._until: dt.datetime | None = None  # ... until the earliest period ends
        self.resumed_until: dt.datetime | None = None
        self._told: set[tuple[str, str, str]] = set()  # (period, its start, level)
        self._sums: dict[tuple[dt.datetime, dt.datetime], dict[str, float]] = {}
        self._periods: tuple[Budget, list[tuple[Period, float]]] | None = None
        ledger.listeners.append(self.add)

    def configure(self, settings: Budget) -> None:
        if settings != self.settings:
            self.settings = settings
            self._since = None  # periods may have moved: read again

    @property
    def active(self) -> bool:
        s = self.settings
        return s.daily > 0 or s.weekly > 0 or s.monthly > 0

    def periods(self, now: dt.datetime | None = None) -> list[tuple[Period, float]]:
        """The periods with a budget, with their limits."""
        now = now or self.clock()
        s = self.settings
        cached = self._periods
        if cached is not None and cached[0] == s and all(p.holds(now) for p, _ in cached[1]):
            return cached[1]  # the same periods until one of them ends
        limits = {"day": s.daily, "week": s.weekly, "month": s.monthly}
        spans = [
            (period(kind, now, s.week_starts_on, s.start_hour), limits[kind])
            for kind in PERIODS
            if limits[kind] > 0
        ]
        self._periods = (s, spans)
        return spans

    def refresh(self, now: dt.datetime | None = None, read: ReadResult | None = None) -> None:
        """Read the current periods' reports from the log again (``read``: the log as
        just read by the caller)."""
        now = now or self.clock()
        spans = self.periods(now)
        if not spans:
            self._entries, self._since, self._until = [], now, None
            self._sums.clear()
            return
        since = min(p.start for p, _ in spans)
        self._until = min(p.end for p, _ in spans)
        self._since = since
        read = read or self.ledger.read(since.timestamp())  # older rotated files skipped
        entries = []
        for report in read.reports:
            when = created_at(report["created"])
            if when is not None and when >= since:
                entries.append((when, self._amounts(report)))
        if self.ledger.log is None:  # no log: this session's reports, as recorded
            entries = [(w, a) for w, a in self._entries if w >= since]
        self._entries = entries
        self._sums.clear()

    def _current(self, now: dt.datetime) -> None:
        if self._since is None or (self._until is not None and now >= self._until):
            self.refresh(now)

    @staticmethod
    def _amounts(report: dict[str, object]) -> dict[str, float]:
        return {unit: amount(report, unit) for unit in UNITS}

    def add(self, report: dict[str, object]) -> None:
        """A report this process recorded (the ledger's listener)."""
        when = created_at(str(report.get("created", ""))) or dt.datetime.now(dt.UTC)
        amounts = self._amounts(report)
        self._entries.append((when, amounts))
        for (start, end), sums in self._sums.items():  # the running sums stay exact
            if start <= when < end:
                for unit, value in amounts.items():
                    sums[unit] += value

    def _used(self, span: Period) -> dict[str, float]:
        """The sums of ``span`` in every unit (computed once, then kept by :meth:`add`)."""
        key = (span.start, span.end)
        sums = self._sums.get(key)
        if sums is None:
            sums = dict.fromkeys(UNITS, 0.0)
            for when, amounts in self._entries:
                if span.holds(when):
                    for unit, value in amounts.items():
                        sums[unit] += value
            self._sums[key] = sums
        return sums

    def usage(self, now: dt.datetime | None = None) -> list[PeriodUse]:
        now = now or self.clock()
        if not self.active:
            return []
        self._current(now)
        unit, warn = self.settings.unit, self.settings.warn_at_percent
        out = []
        for span, limit in self.periods(now):
            used = self._used(span)[unit]
            out.append(PeriodUse(span, limit, used, level_of(used, limit, warn)))
        return out

    def worst(self, now: dt.datetime | None = None) -> PeriodUse | None:
        uses = self.usage(now)
        return max(uses, key=lambda u: u.percent) if uses else None

    def blocked(self, now: dt.datetime | None = None) -> PeriodUse | None:
        """The period whose limit pauses the model now (None: the model may run)."""
        if self.settings.at_limit != "stop":
            return None
        now = now or self.clock()
        if self.resumed_until is not None and now < self.resumed_until:
            return None
        over = [u for u in self.usage(now) if u.level == "limit"]
        return max(over, key=lambda u: u.percent) if over else None

    def check(self, now: dt.datetime | None = None) -> None:
        """Raise :class:`BudgetExceeded` when the model is paused."""
        over = self.blocked(now)
        if over is not None:
            raise BudgetExceeded(self.paused_message(over))

    def paused_message(self, use: PeriodUse) -> str:
        return (
            f"{use.period.label}'s budget is used up ({self.describe(use.used)} of "
            f"{self.describe(use.limit)}): the model is paused until "
            f"{use.period.end.strftime('%a %d %b %H:%M')}; run 'edgewise.resumeBudget' "
            "(or raise the budget) to go on"
        )

    def paused_message_now(self) -> str:
        over = self.blocked()
        return self.paused_message(over) if over is not None else "no budget is at its limit"

    def resume(self, now: dt.datetime | None = None) -> str:
        """Run the model again for the rest of the periods now over their limit."""
        now = now or self.clock()
        over = [u for u in self.usage(now) if u.level == "limit"]
        if not over:
            return "no budget is at its limit: nothing to resume"
        self.resumed_until = max(u.period.end for u in over)
        return (
            "edgewise: running again past the budget until "
            f"{self.resumed_until.strftime('%a %d %b %H:%M')}"
        )

    def describe(self, value: float) -> str:
        unit = self.settings.unit
        if unit == "tokens":
            return f"{value:,.0f} tokens"
        if unit == "energyWh":
            return f"{value:.2f} Wh"
        return f"{value:.2f} {self.ledger.session.get('currency') or 'money'}"

    def status(self, now: dt.datetime | None = None) -> dict[str, object] | None:
        """The ``budget`` field of ``edgewise/status`` (None without a budget)."""
        now = now or self.clock()
        use = self.worst(now)
        if use is None:
            return None
        text = f"{use.period.label}: {use.percent:.0f} % of budget"
        if self.blocked(now) is not None:
            text += " (model paused)"
        elif self.resumed_until is not None and now < self.resumed_until and use.level == "limit":
            text += " (resumed)"
        return {"text": text, "level": use.level, "percent": round(use.percent, 1)}

    def news(self, now: dt.datetime | None = None) -> list[str]:
        """Messages to show once: a budget passed its warning threshold or its limit."""
        now = now or self.clock()
        out = []
        for use in self.usage(now):
            if use.level == "ok":
                continue
            key = (use.period.kind, use.period.start.isoformat(), use.level)
            if key in self._told:
                continue
            self._told.add(key)
            if use.level == "warn":
                out.append(
                    f"edgewise: {use.period.label}: {use.percent:.0f} % of the budget used "
                    f"({self.describe(use.used)} of {self.describe(use.limit)})"
                )
            elif self.settings.at_limit == "stop":
                out.append("edgewise: " + self.paused_message(use))
            else:
                out.append(
                    f"edgewise: {use.period.label}'s budget is used up "
                    f"({self.describe(use.used)} of {self.describe(use.limit)}); "
                    "edgewise goes on (budget.atLimit is 'warn')"
                )
        return out
