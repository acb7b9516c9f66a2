"""Where the tokens went: each report's cost split by what it bought.

A report's outcome is known in part when it is made (hidden by the confidence gate; an
action whose every attempt failed verification; an action's earlier attempts that were
regenerated) and in part later, from an outcome event in the ledger (a suggestion
accepted or superseded while typing, an action's edit applied, a batch change refused).

    accepted     completions shown and accepted
    ignored      completions answered and not accepted (shown and ignored, or empty)
    hidden       completions hidden by the confidence gate (minConfidence)
    superseded   completions whose answer came after the user typed on
    applied      actions applied (editor) and batch changes applied
    not_applied  actions answered and not applied (offered, proposed, explained)
    regenerated  action attempts that failed verification and were asked again
    refused      actions that failed verification, batch changes refused by a check
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

OUTCOMES = (
    "accepted",
    "ignored",
    "hidden",
    "superseded",
    "applied",
    "not_applied",
    "regenerated",
    "refused",
)
# what an event may say about a report (the ledger's outcome events)
EVENTS = frozenset({"accepted", "superseded", "applied", "refused", "proposed"})
FIELDS = ("requests", "tokens", "energy_wh", "cost", "cloud_equivalent")
KEEP = 4096  # reports a server's running split can still move (events come soon after)


def empty_outcomes() -> dict[str, dict[str, float]]:
    return {name: dict.fromkeys(FIELDS, 0) for name in OUTCOMES}


def make_event(report_id: str, outcome: str, lines: int = 0) -> dict[str, Any]:
    """An outcome event line for the ledger (``lines``: of an accepted suggestion)."""
    if outcome not in EVENTS:
        raise ValueError(f"unknown outcome {outcome!r}")
    return {
        "event": "outcome",
        "report": report_id,
        "outcome": outcome,
        "lines": max(int(lines), 0),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
    }


def well_formed_event(line: Any) -> bool:
    return (
        isinstance(line, dict)
        and line.get("event") == "outcome"
        and isinstance(line.get("report"), str)
        and line.get("outcome") in EVENTS
        and isinstance(line.get("lines", 0), int)
        and isinstance(line.get("created"), str)
    )


def base_outcome(report: dict[str, Any]) -> str:
    """The outcome a report has before any event."""
    if report.get("kind") == "completion":
        return "hidden" if report.get("hidden") else "ignored"
    if report.get("verified", {}).get("syntax_ok") is False:
        return "refused"
    return "not_applied"


def event_outcome(report: dict[str, Any], event: str) -> str:
    """The bucket an event moves a report's (non-regenerated) cost to."""
    if event == "proposed":
        return "not_applied"
    if event == "applied" and report.get("kind") == "completion":
        return "accepted"
    return event


def amounts(report: dict[str, Any]) -> dict[str, float]:
    tokens, cost = report["tokens"], report["cost"]
    return {  # a lost request's tokens and cloud price are null (unknown): 0 here
        "requests": 1,
        "tokens": (tokens["prompt"] or 0) + (tokens["completion"] or 0),
        "energy_wh": cost["energy_wh"],
        "cost": total_cost(cost),
        "cloud_equivalent": cost["cloud_equivalent"] or 0.0,
    }


def total_cost(cost: dict[str, Any]) -> float:
    """What a report cost here: its ``total``, or for a report written before hardware
    was counted, its local cost."""
    total = cost.get("total")
    return float(total) if isinstance(total, int | float) else float(cost["local"])


def regenerated_share(report: dict[str, Any]) -> dict[str, float] | None:
    """The part of an action's amounts spent on attempts asked again (None: none):
    tokens as counted, the time-driven figures by the share of model time, the cloud
    price by the share of tokens."""
    tokens = report["tokens"].get("regenerated")
    if not tokens:
        return None
    whole = amounts(report)
    total_ms = report["time_ms"]["total"] or 0.0
    regen_ms = report["time_ms"].get("regenerated", 0.0)
    by_time = regen_ms / total_ms if total_ms > 0 else 0.0
    by_tokens = tokens / whole["tokens"] if whole["tokens"] else 0.0
    return {
        "requests": 0,
        "tokens": tokens,
        "energy_wh": whole["energy_wh"] * by_time,
        "cost": whole["cost"] * by_time,
        "cloud_equivalent": whole["cloud_equivalent"] * by_tokens,
    }


class Outcomes:
    """Running outcome totals: each report's amounts in one bucket, moved when an event
    about it arrives (in any order: an event before its report waits for it)."""

    def __init__(self, keep: int | None = None) -> None:
        """``keep``: how many recent reports may still get an event (a server's running
        split; None: all, for totals read from the log)."""
        self.keep = keep
        self.buckets = empty_outcomes()
        self.accepted_lines = 0
        self.applied_changes = 0
        self.completion_cost = 0.0
        self.action_cost = 0.0
        # report id -> (bucket, its amounts less the regenerated share, kind)
        self._where: OrderedDict[str, tuple[str, dict[str, float], str]] = OrderedDict()
        self._early: OrderedDict[str, dict[str, Any]] = OrderedDict()  # report not in yet

    def add_report(self, report: dict[str, Any]) -> None:
        whole = amounts(report)
        kind = "completion" if report.get("kind") == "completion" else "action"
        if kind == "completion":
            self.completion_cost += whole["cost"]
        else:
            self.action_cost += whole["cost"]
        regen = regenerated_share(report)
        rest = dict(whole)
        if regen is not None:
            self._add("regenerated", regen)
            rest = {k: whole[k] - regen[k] for k in FIELDS}
        bucket = base_outcome(report)
        self._add(bucket, rest)
        self._where[report["id"]] = (bucket, rest, kind)
        self._trim(self._where)
        early = self._early.pop(report["id"], None)
        if early is not None:
            self.add_event(early)

    def add_event(self, event: dict[str, Any]) -> None:
        report_id = event["report"]
        found = self._where.get(report_id)
        if found is None:
            self._early[report_id] = event
            self._trim(self._early)
            return
        bucket, rest, kind = found
        target = event_outcome({"kind": kind}, event["outcome"])
        if target == bucket:
            return
        if bucket in ("accepted", "applied"):
            return  # accepted or applied stays so (a later supersede of a shown text)
        self._add(bucket, {k: -v for k, v in rest.items()})
        self._add(target, rest)
        self._where[report_id] = (target, rest, kind)
        if target == "accepted":  # lines 0: the call that made a text accepted later
            self.accepted_lines += int(event.get("lines") or 0)
        elif target == "applied":
            self.applied_changes += 1

    def _trim(self, table: OrderedDict[str, Any]) -> None:
        while self.keep is not None and len(table) > self.keep:
            table.popitem(last=False)

    def _add(self, bucket: str, values: dict[str, float]) -> None:
        into = self.buckets[bucket]
        for key in FIELDS:
            into[key] += values[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcomes": {k: dict(v) for k, v in self.buckets.items()},
            "accepted_lines": self.accepted_lines,
            "applied_changes": self.applied_changes,
            "completion_cost": self.completion_cost,
            "action_cost": self.action_cost,
            "cost_per_accepted_line": (
                self.completion_cost / self.accepted_lines if self.accepted_lines else None
            ),
            "cost_per_applied_change": (
                self.action_cost / self.applied_changes if self.applied_changes else None
            ),
        }
