"""The comparison that matters: what edgewise cost here this week and this month, what
the same tokens would cost at hosted price points (with a price multiplier), a flat
subscription, and when the hardware pays for itself. One function builds the figures
from the ledger; the CLI (``edgewise cost``) and the editors' cost views render them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from edgewise.config import Settings
from edgewise.report.cost import cloud_price, hardware_per_hour
from edgewise.report.ledger import ReadResult, totals, unit_costs
from edgewise.report.periods import created_at, local_now, period

DAYS_PER_MONTH = 365.0 / 12.0
ROLLING_DAYS = 30  # "at your usage": the last 30 days


def fixed_per_month(settings: Settings) -> float:
    """The hardware's price per month of use (hourly rate x hours in use a month)."""
    pricing = settings.pricing
    return hardware_per_hour(pricing) * pricing.hardware_hours_per_day * DAYS_PER_MONTH


def alternatives(
    settings: Settings, tokens_prompt: int, tokens_completion: int, days: float
) -> list[dict[str, Any]]:
    """What the same tokens cost at each hosted price point (times the multiplier), and
    the flat subscription for ``days``."""
    comp = settings.cost_comparison
    out: list[dict[str, Any]] = [
        {
            "name": point.name,
            "kind": "hosted",
            "input_per_million": point.input_per_million * comp.price_multiplier,
            "output_per_million": point.output_per_million * comp.price_multiplier,
            "cost": cloud_price(
                tokens_prompt,
                tokens_completion,
                point.input_per_million * comp.price_multiplier,
                point.output_per_million * comp.price_multiplier,
            ),
        }
        for point in comp.hosted
    ]
    if comp.subscription_per_month > 0:
        out.append(
            {
                "name": comp.subscription_name,
                "kind": "subscription",
                "per_month": comp.subscription_per_month,
                "cost": comp.subscription_per_month * days / DAYS_PER_MONTH,
            }
        )
    return out


def break_even(settings: Settings, rolling: dict[str, Any]) -> list[dict[str, Any]]:
    """Per alternative, at the last 30 days' usage: its cost per month, edgewise's
    running cost per month (energy and bills, without hardware), the saving, the months
    until the saving has paid the hardware, and (hosted prices) the tokens per month
    above which running here costs less than the hosted price, hardware included."""
    scale = DAYS_PER_MONTH / ROLLING_DAYS
    tokens = rolling["tokens_prompt"] + rolling["tokens_completion"]
    running = rolling["local_cost"] * scale
    hardware = settings.pricing.hardware_price * settings.pricing.hardware_share
    fixed = fixed_per_month(settings)
    per_token_here = rolling["local_cost"] / tokens if tokens else None
    out = []
    for alt in alternatives(
        settings, rolling["tokens_prompt"], rolling["tokens_completion"], DAYS_PER_MONTH
    ):
        monthly = alt["cost"] if alt["kind"] == "subscription" else alt["cost"] * scale
        saving = monthly - running
        row: dict[str, Any] = {
            "name": alt["name"],
            "per_month": monthly,
            "edgewise_running_per_month": running,
            "saving_per_month": saving,
            "payback_months": (hardware / saving if saving > 0 else None) if hardware else 0.0,
            "break_even_tokens_per_month": None,
        }
        if alt["kind"] == "hosted" and tokens and per_token_here is not None:
            per_token_there = alt["cost"] / tokens
            margin = per_token_there - per_token_here
            row["break_even_tokens_per_month"] = fixed / margin if margin > 0 else None
        out.append(row)
    return out


def period_figures(
    settings: Settings, read: ReadResult, start: dt.datetime, end: dt.datetime, label: str
) -> dict[str, Any]:
    chosen = [r for r in read.reports if _within(r, start, end)]
    out = totals(chosen, read.events)
    # a calendar month is a month of subscription, whatever its days
    days = DAYS_PER_MONTH if label == "this month" else (end - start).total_seconds() / 86400.0
    return {
        "label": label,
        "start": start.isoformat(timespec="minutes"),
        "end": end.isoformat(timespec="minutes"),
        "totals": out,
        "units": unit_costs(out),
        "alternatives": alternatives(
            settings, out["tokens_prompt"], out["tokens_completion"], days
        ),
    }


def _within(report: dict[str, Any], start: dt.datetime, end: dt.datetime) -> bool:
    when = created_at(report["created"])
    return when is not None and start <= when < end


def reads_from(settings: Settings, now: dt.datetime | None = None) -> float:
    """The earliest time :func:`cost_summary` needs reports from (POSIX time): the
    month's start or 30 days ago, whichever is earlier (older rotated logs are skipped)."""
    now = now or local_now()
    b = settings.budget
    month = period("month", now, b.week_starts_on, b.start_hour)
    week = period("week", now, b.week_starts_on, b.start_hour)
    rolling = now - dt.timedelta(days=ROLLING_DAYS)
    return min(month.start, week.start, rolling).timestamp()


def cost_summary(
    settings: Settings, read: ReadResult, now: dt.datetime | None = None
) -> dict[str, Any]:
    """This week, this month (the budget's week start and hour), and the break-even at
    the last 30 days' usage; money in the pricing currency."""
    now = now or local_now()
    b = settings.budget
    week = period("week", now, b.week_starts_on, b.start_hour)
    month = period("month", now, b.week_starts_on, b.start_hour)
    rolling_start = now - dt.timedelta(days=ROLLING_DAYS)
    rolling = totals(
        [r for r in read.reports if _within(r, rolling_start, now + dt.timedelta(seconds=1))],
        read.events,
    )
    comp = settings.cost_comparison
    return {
        "currency": settings.pricing.currency,
        "price_multiplier": comp.price_multiplier,
        "hardware_per_hour": hardware_per_hour(settings.pricing),
        "hardware_per_month": fixed_per_month(settings),
        "week": period_figures(settings, read, week.start, week.end, "this week"),
        "month": period_figures(settings, read, month.start, month.end, "this month"),
        "last_30_days": {
            "tokens": rolling["tokens_prompt"] + rolling["tokens_completion"],
            "cost": rolling["total_cost"],
            "break_even": break_even(settings, rolling),
        },
        "skipped_lines": read.skipped,
    }


def to_csv(summary: dict[str, Any]) -> str:
    """One row per period and item: edgewise's cost parts, then each alternative."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "start", "end", "item", "cost", "currency", "tokens", "requests"])
    currency = summary["currency"]
    for key in ("week", "month"):
        fig = summary[key]
        t = fig["totals"]
        tokens = t["tokens_prompt"] + t["tokens_completion"]
        base = [fig["label"], fig["start"], fig["end"]]
        for item, value in (
            ("edgewise energy", t["local_cost"]),
            ("edgewise hardware", t["hardware"]),
            ("edgewise total", t["total_cost"]),
        ):
            writer.writerow([*base, item, f"{value:.6f}", currency, tokens, t["requests"]])
        for alt in fig["alternatives"]:
            writer.writerow([*base, alt["name"], f"{alt['cost']:.6f}", currency, tokens, ""])
        for name, part in t["outcomes"].items():
            writer.writerow(
                [
                    *base,
                    f"outcome: {name}",
                    f"{part['cost']:.6f}",
                    currency,
                    part["tokens"],
                    part["requests"],
                ]
            )
    return buffer.getvalue()
