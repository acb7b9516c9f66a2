"""``edgewise cost`` as text: the week and the month in a table, where the tokens went,
the break-even, and a bar chart drawn with Unicode blocks."""

from __future__ import annotations

import math
from typing import Any

from edgewise.report.outcomes import OUTCOMES

BLOCKS = " ▏▎▍▌▋▊▉█"
BAR_WIDTH = 30
OUTCOME_NAMES = {
    "accepted": "suggestions accepted",
    "ignored": "suggestions shown, not accepted",
    "hidden": "hidden by the confidence gate",
    "superseded": "superseded while typing",
    "applied": "actions applied",
    "not_applied": "actions not applied",
    "regenerated": "attempts regenerated (failed checks)",
    "refused": "changes refused (failed checks)",
}


def money(value: float | None, currency: str) -> str:
    if value is None:
        return "—"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    digits = 2 if abs(value) >= 1 else 4
    if 0 < abs(value) < 0.001:  # two significant digits of a small amount
        digits = min(8, 1 - math.floor(math.log10(abs(value))))
    text = f"{abs(value):,.{digits}f}"
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``value`` against ``largest``, in eighths of a character."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(8 * width * min(value / largest, 1.0))
    full, rest = divmod(eighths, 8)
    return "█" * full + (BLOCKS[rest] if rest else "") or "▏"


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("─" * w for w in widths))
    return out


def render(summary: dict[str, Any]) -> str:
    cur = summary["currency"]
    week, month = summary["week"], summary["month"]
    wt, mt = week["totals"], month["totals"]
    lines = [
        f"edgewise cost — week from {week['start'][:10]}, month from {month['start'][:10]}",
        "",
    ]
    if summary.get("budget"):
        budget = summary["budget"]
        note = {"warn": " — nearly used up", "limit": " — used up"}.get(budget["level"], "")
        lines += [f"Budget: {budget['text']}{note}", ""]
    rows = [["", "this week", "this month"]]

    def add(label: str, w: str, m: str) -> None:
        rows.append([label, w, m])

    add("requests", f"{wt['requests']:,}", f"{mt['requests']:,}")
    add(
        "tokens (prompt + generated)",
        f"{wt['tokens_prompt'] + wt['tokens_completion']:,}",
        f"{mt['tokens_prompt'] + mt['tokens_completion']:,}",
    )
    add("active use", _hours(wt["active_seconds"]), _hours(mt["active_seconds"]))
    add("energy", f"{wt['energy_wh']:.2f} Wh", f"{mt['energy_wh']:.2f} Wh")
    add(
        "electricity (and remote bills)", money(wt["local_cost"], cur), money(mt["local_cost"], cur)
    )
    add("hardware (amortised)", money(wt["hardware"], cur), money(mt["hardware"], cur))
    add("edgewise here, total", money(wt["total_cost"], cur), money(mt["total_cost"], cur))
    for unit, label in (
        ("per_request", "  per request"),
        ("per_active_hour", "  per hour of active use"),
        ("per_1k_tokens", "  per 1,000 tokens"),
    ):
        add(
            label,
            money(week["units"][unit]["total"], cur),
            money(month["units"][unit]["total"], cur),
        )
    add(
        "  per accepted line",
        money(wt["cost_per_accepted_line"], cur),
        money(mt["cost_per_accepted_line"], cur),
    )
    add(
        "  per applied change",
        money(wt["cost_per_applied_change"], cur),
        money(mt["cost_per_applied_change"], cur),
    )
    mult = summary["price_multiplier"]
    suffix = f" (×{mult:g})" if mult != 1 else ""
    for w_alt, m_alt in zip(week["alternatives"], month["alternatives"], strict=True):
        what = "same tokens at " if w_alt["kind"] == "hosted" else ""
        add(
            f"{what}{w_alt['name']}{suffix if w_alt['kind'] == 'hosted' else ''}",
            money(w_alt["cost"], cur),
            money(m_alt["cost"], cur),
        )
    lines += _table(rows, {1, 2})

    lines += ["", "Where this month's tokens went"]
    rows = [["", "requests", "tokens", "cost"]]
    for name in OUTCOMES:
        part = mt["outcomes"][name]
        if part["requests"] or part["tokens"]:
            rows.append(
                [
                    OUTCOME_NAMES[name],
                    f"{part['requests']:,.0f}",
                    f"{part['tokens']:,.0f}",
                    money(part["cost"], cur),
                ]
            )
    if len(rows) == 1:
        rows.append(["(no requests this month)", "", "", ""])
    lines += _table(rows, {1, 2, 3})

    lines += ["", "This month: edgewise here vs. the same tokens elsewhere"]
    bars = [("edgewise here", mt["total_cost"])] + [
        (alt["name"], alt["cost"]) for alt in month["alternatives"]
    ]
    largest = max(v for _, v in bars)
    width = max(len(n) for n, _ in bars)
    for name, value in bars:
        lines.append(f"{name.ljust(width)}  {money(value, cur):>10}  {bar(value, largest)}")

    rolling = summary["last_30_days"]
    lines += ["", f"Break-even at the last 30 days' usage ({rolling['tokens']:,} tokens)"]
    rows = [
        [
            "compared with",
            "its cost / month",
            "saving / month",
            "hardware paid back in",
            "break-even usage",
        ]
    ]
    for row in rolling["break_even"]:
        rows.append(
            [
                row["name"],
                money(row["per_month"], cur),
                money(row["saving_per_month"], cur),
                _payback(row["payback_months"]),
                _usage(row["break_even_tokens_per_month"]),
            ]
        )
    lines += _table(rows, {1, 2})
    lines += [
        "",
        "edgewise here = electricity (pricing.deviceWatts × model time × pricing.pricePerKwh) "
        "+ hardware (pricing.hardwarePrice × hardwareShare over hardwareLifeYears × "
        f"hardwareHoursPerDay: {money(summary['hardware_per_hour'], cur)} per active hour).",
    ]
    if summary.get("skipped_lines"):
        lines.append(f"{summary['skipped_lines']} unreadable line(s) in the log were left out.")
    return "\n".join(lines) + "\n"


def _payback(months: float | None) -> str:
    """ "3.5 months", "4.2 years", "more than a century", "never"."""
    if months == 0.0:
        return "no hardware price set"
    if months is None:
        return "never"
    if months < 24:
        return f"{months:.1f} months"
    years = months / 12
    return "more than a century" if years > 100 else f"{years:.1f} years"


def _usage(tokens: float | None) -> str:
    if tokens is None:
        return "—"
    return "any usage" if tokens == 0 else f"above {tokens:,.0f} tokens/month"


def _hours(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
