"""Calendar periods in local time: the day, the week (starting on a chosen weekday) and
the month, each starting at a chosen hour. Budgets and the cost views use the same
boundaries, so "this week" means one thing everywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    kind: str  # day | week | month
    start: dt.datetime  # aware, local time
    end: dt.datetime

    def holds(self, when: dt.datetime) -> bool:
        return self.start <= when < self.end

    @property
    def label(self) -> str:
        return {"day": "today", "week": "this week", "month": "this month"}[self.kind]


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _at_hour(day: dt.date, hour: int) -> dt.datetime:
    """``hour`` o'clock local time on ``day``, with the zone's offset of that day."""
    return dt.datetime.combine(day, dt.time(hour)).astimezone()


def period(kind: str, now: dt.datetime, week_starts_on: str = "monday", hour: int = 0) -> Period:
    """The ``kind`` period holding ``now`` (aware; naive is taken as local time)."""
    if now.tzinfo is None:
        now = now.astimezone()
    local = now.astimezone()
    if kind == "day":
        start = _at_hour(local.date(), hour)
        if start > local:
            start = _at_hour(local.date() - dt.timedelta(days=1), hour)
        end = _at_hour(start.date() + dt.timedelta(days=1), hour)
    elif kind == "week":
        first = WEEKDAYS.index(week_starts_on)
        day = local.date() - dt.timedelta(days=(local.weekday() - first) % 7)
        start = _at_hour(day, hour)
        if start > local:
            start = _at_hour(day - dt.timedelta(days=7), hour)
        end = _at_hour(start.date() + dt.timedelta(days=7), hour)
    elif kind == "month":
        start = _at_hour(local.date().replace(day=1), hour)
        if start > local:
            previous = local.date().replace(day=1) - dt.timedelta(days=1)
            start = _at_hour(previous.replace(day=1), hour)
        following = (start.date().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        end = _at_hour(following, hour)
    else:
        raise ValueError(f"unknown period {kind!r}")
    return Period(kind, start, end)


def created_at(created: str) -> dt.datetime | None:
    """A report's ``created`` as an aware time (None when unreadable)."""
    try:
        stamp = dt.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)
