"""The --report file: one JSON line per target, then one summary line per run.

Records are schema-valid reports (report.schema.json) plus the batch fields
(batch-record.schema.json); the summary has its own schema (batch-summary.schema.json)
and is told apart by ``"kind": "summary"``. Each line is written with one ``write`` on
a file opened for appending and flushed to disk, so a crash leaves at most a torn last
line, which --resume drops.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from edgewise.redact import redact
from edgewise.report.ledger import totals
from edgewise.schemas import load_schema

OUTCOMES = ("applied", "proposed", "rejected-by-syntax", "rejected-by-check", "skipped", "failed")
# Outcomes --resume does not redo. "proposed" is done only for another dry run (a dry
# run's proposals are still to be applied by an --apply run); "skipped" and "failed"
# are retried (a file that changed on disk, a model error).
DONE_ALWAYS = frozenset({"applied", "rejected-by-syntax", "rejected-by-check"})


def _registry() -> Registry:
    resources = []
    for name in ("report", "batch-record", "batch-summary"):
        schema = load_schema(name)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


class Validators:
    """JSON Schema validators of records and summaries (for tests and --resume)."""

    def __init__(self) -> None:
        registry = _registry()
        self.report = jsonschema.Draft202012Validator(load_schema("report"), registry=registry)
        self.record = jsonschema.Draft202012Validator(
            load_schema("batch-record"), registry=registry
        )
        self.summary = jsonschema.Draft202012Validator(
            load_schema("batch-summary"), registry=registry
        )


ResumeKey = tuple[str, str | None, str, str]  # action, instruction, real path, symbol


def resume_key(action: str, instruction: str | None, path: str, symbol: str) -> ResumeKey:
    return (action, instruction, path, symbol)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The whole JSON objects of a report file (a torn or foreign line is passed over)."""
    out: list[dict[str, Any]] = []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return out
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def done_keys(lines: Iterable[dict[str, Any]], dry_run: bool) -> set[ResumeKey]:
    done: set[ResumeKey] = set()
    for line in lines:
        target, batch = line.get("target"), line.get("batch")
        if line.get("kind") != "action" or not isinstance(target, dict):
            continue
        if not isinstance(batch, dict):
            continue
        outcome = line.get("outcome")
        if outcome in DONE_ALWAYS or (outcome == "proposed" and dry_run):
            done.add(
                resume_key(
                    str(line.get("action")),
                    batch.get("instruction"),
                    str(target.get("path")),
                    str(target.get("symbol")),
                )
            )
    return done


class ReportWriter:
    """Appends whole lines to the report file; keeps nothing torn."""

    def __init__(self, path: Path, resume: bool) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        if not resume:
            flags |= os.O_TRUNC
        self._fd = os.open(path, flags, 0o644)
        if resume:
            self._drop_torn_tail()

    def _drop_torn_tail(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            os.truncate(self.path, data.rfind(b"\n") + 1)

    def write(self, record: dict[str, Any]) -> None:
        line = redact(json.dumps(record, ensure_ascii=False, separators=(",", ":"))) + "\n"
        data = line.encode("utf-8")
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class RunTotals:
    """Running sums over the records of one run (what the summary reports)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._money = {"local": 0.0, "cloud": 0.0}

    def add(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        self._money["local"] += record["cost"]["local"]
        self._money["cloud"] += record["cost"]["cloud_equivalent"]

    def money(self, basis: str) -> float:
        return self._money[basis]

    def summary_totals(self, wall_seconds: float, cloud_input_per_million: float) -> dict[str, Any]:
        out = totals(self.records)
        # as the ledger counts it: the whole file with every model call, against the
        # prompts actually sent (records without a whole-file count are left out)
        counted = [r for r in self.records if "whole_file" in r["tokens"]]
        whole = sum(
            r["tokens"]["whole_file"] * int(r["verified"].get("attempts") or 1) for r in counted
        )
        saved = whole - sum(r["tokens"]["prompt"] for r in counted)
        out.update(
            {
                "tokens_whole_file": whole,
                "tokens_saved": saved,
                "wall_seconds": round(wall_seconds, 3),
                "cloud_saved": saved * cloud_input_per_million / 1_000_000.0,
            }
        )
        return out
