"""The --report file: one JSON line per target, then one summary line per run.

Records are schema-valid reports (report.schema.json) plus the batch fields
(batch-record.schema.json); the summary has its own schema (batch-summary.schema.json)
and is told apart by ``"kind": "summary"``. Each line is written with one ``write`` on
a file opened for appending and flushed to disk, so a crash leaves at most a torn last
line, which the next run drops.

A report file is never truncated: a later run appends its own records and summary. A path
that already holds something else is refused: edgewise recognises its own report by its
first line, a whole JSON object that is a batch record (``"kind": "action"`` with a
``batch.run``) or a summary (``"kind": "summary"`` with an ``id``). An empty file is
taken as a report.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from edgewise.redact import redact
from edgewise.report.ledger import totals
from edgewise.schemas import load_schema

OUTCOMES = (
    "applied",
    "proposed",
    "rejected-by-syntax",
    "rejected-unusable",  # the model's reply gave nothing to edit with (no usable types)
    "rejected-by-test-guard",
    "rejected-by-checkers",
    "rejected-by-check",
    "skipped",
    "failed",
)
# Outcomes --resume does not redo. "proposed" is done only for another dry run (a dry
# run's proposals are still to be applied by an --apply run); "skipped" and "failed"
# are retried (a file that changed on disk, a model error).
DONE_ALWAYS = frozenset(
    {
        "applied",
        "rejected-by-syntax",
        "rejected-unusable",
        "rejected-by-test-guard",
        "rejected-by-checkers",
        "rejected-by-check",
    }
)


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


FIRST_LINE_MAX = 64 * 1024 * 1024  # a record carries a diff and a text: bounded, not small


def first_line(path: Path) -> bytes | None:
    """The first line of a file without its newline (None when there is no whole line)."""
    chunks: list[bytes] = []
    size = 0
    with open(path, "rb") as handle:
        while size < FIRST_LINE_MAX:
            chunk = handle.read(1 << 16)
            if not chunk:
                return None
            end = chunk.find(b"\n")
            if end >= 0:
                chunks.append(chunk[:end])
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
    return None


def line_kind(line: bytes | None) -> str | None:
    """``"action"``, ``"summary"`` or ``"journal"`` for a line edgewise's batch mode wrote,
    else None."""
    if line is None:
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    kind = value.get("kind")
    batch = value.get("batch")
    if kind == "action" and isinstance(batch, dict) and isinstance(batch.get("run"), str):
        return "action"
    if kind == "summary" and isinstance(value.get("id"), str):
        return "summary"
    if kind == "journal" and isinstance(value.get("id"), str):
        return "journal"
    return None


def foreign_file(path: Path, kinds: tuple[str, ...]) -> str | None:
    """Why ``path`` must not be appended to: it exists and is not a file edgewise wrote
    (its first line is not of one of ``kinds``). None when it may be."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return "it exists and is not a regular file"
    if info.st_size == 0:
        return None
    try:
        line = first_line(path)
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if line_kind(line) not in kinds:
        return (
            "it exists and is not a file edgewise wrote (its first line is not an edgewise record)"
        )
    return None


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


REPORT_KINDS = ("action", "summary")


class ReportWriter:
    """Appends whole lines to a file edgewise writes (a report, a journal); keeps nothing
    torn; never truncates what is there."""

    def __init__(self, path: Path, kinds: tuple[str, ...] = REPORT_KINDS) -> None:
        self.path = path
        why = foreign_file(path, kinds)
        if why is not None:  # checked at the start too: this covers a file made since
            raise FileExistsError(f"{path}: {why}")
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        self._drop_torn_tail()

    def _drop_torn_tail(self) -> None:
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as handle:
            handle.seek(max(size - (1 << 20), 0))
            tail = handle.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        if cut < 0 and size > len(tail):
            return  # a last line over 1 MB with no end: left alone rather than guessed
        os.ftruncate(self._fd, size - len(tail) + cut + 1)

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
