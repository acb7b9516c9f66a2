"""The cost ledger: running totals of the session, and every report appended as one JSON
line to a log in the user's state directory (rotated at a size limit) from which the
totals of today are read back.

No single report can push the history out: a line is at most ``max_bytes // 8`` (a
report over that has its long strings shortened, with a note in the line, or is not
logged at all), and the log is rotated only when it is already over ``max_bytes`` before
a write, so every rotated file holds at least ``max_bytes`` of reports.

A line is written with a single ``write`` of the whole line to a file opened with
``O_APPEND``, so a crash leaves at most one unterminated line at the end. The reader
never returns such a line (nor any line that is not a whole, well-formed report), and
the next writer first ends the torn line, so a later report is never glued onto it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from edgewise.private_files import narrow_file, open_private, private_dir
from edgewise.report.outcomes import KEEP as OUTCOMES_KEPT
from edgewise.report.outcomes import Outcomes, total_cost, well_formed_event
from edgewise.schemas import load_schema

LOG_NAME = "reports.jsonl"
QUIET_S = 0.3  # reports are written after this long without a new one (see LogWriter)
MAX_DELAY_S = 5.0
MAX_BYTES = 8 * 1024 * 1024
KEEP = 3  # rotated files kept: reports.jsonl.1 (newest) ... reports.jsonl.3
LINE_SHARE = 8  # a line is at most max_bytes // LINE_SHARE
SHORT_STRING = 1024  # what an oversized report's long strings are shortened to


def empty_totals() -> dict[str, Any]:
    return {
        "requests": 0,
        "completions": 0,
        "actions": 0,
        "hidden": 0,
        "lost": 0,
        "tokens_prompt": 0,
        "tokens_completion": 0,
        "tokens_cached": 0,
        "model_seconds": 0.0,
        "energy_wh": 0.0,
        "local_cost": 0.0,
        "cloud_equivalent": 0.0,
        "tokens_whole_file": 0,
        "tokens_prompt_with_whole_file": 0,
        "context_saved_tokens": 0,
        "context_saved_cost": 0.0,
        "hardware": 0.0,
        "total_cost": 0.0,
        "active_seconds": 0.0,
        "tokens_regenerated": 0,
        "currency": None,
        **Outcomes().to_dict(),
    }


def add_report(out: dict[str, Any], report: dict[str, Any]) -> None:
    """Add one report to running totals (a report written before hardware and active
    time were counted reads as hardware 0, its model time active)."""
    tokens, cost = report["tokens"], report["cost"]
    out["requests"] += 1
    out["completions" if report.get("kind") == "completion" else "actions"] += 1
    out["hidden"] += 1 if report.get("hidden") else 0
    out["lost"] += 1 if report.get("lost") else 0
    # a lost request's tokens and cloud price are null (unknown): they add nothing
    out["tokens_prompt"] += tokens["prompt"] or 0
    out["tokens_completion"] += tokens["completion"] or 0
    out["tokens_cached"] += tokens["cached"] or 0
    out["model_seconds"] += report["time_ms"]["total"] / 1000.0
    out["energy_wh"] += cost["energy_wh"]
    out["local_cost"] += cost["local"]
    out["cloud_equivalent"] += cost["cloud_equivalent"] or 0.0
    out["hardware"] += cost.get("hardware", 0.0)
    out["total_cost"] += total_cost(cost)
    out["active_seconds"] += report["time_ms"].get("active", report["time_ms"]["total"]) / 1000.0
    out["tokens_regenerated"] += tokens.get("regenerated", 0)
    if "whole_file" in tokens:
        calls = int(report.get("verified", {}).get("attempts") or 1)
        out["tokens_whole_file"] += tokens["whole_file"] * calls
        out["tokens_prompt_with_whole_file"] += tokens["prompt"]
        out["context_saved_tokens"] += tokens["whole_file"] * calls - tokens["prompt"]
        out["context_saved_cost"] += cost.get("context_saving", 0.0)
    out["currency"] = out["currency"] or cost["currency"]


def totals(
    reports: Iterable[dict[str, Any]], events: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Totals of ``reports``, their cost split by outcome (``events``: the outcome events
    about them; events about other reports are left out)."""
    out = empty_totals()
    outcomes = Outcomes()
    for report in reports:
        add_report(out, report)
        outcomes.add_report(report)
    for event in events:
        outcomes.add_event(event)
    out.update(outcomes.to_dict())
    return out


def unit_costs(totals: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Energy (what was paid per kWh, plus a remote endpoint's bill), amortised hardware
    and their sum, per request, per hour of active use and per 1,000 tokens (None where
    there is nothing to divide by)."""
    parts = {
        "energy": totals["local_cost"],
        "hardware": totals["hardware"],
        "total": totals["total_cost"],
    }
    tokens = totals["tokens_prompt"] + totals["tokens_completion"]
    per = {
        "per_request": totals["requests"],
        "per_active_hour": totals["active_seconds"] / 3600.0,
        "per_1k_tokens": tokens / 1000.0,
    }
    return {
        unit: {name: (value / amount if amount else None) for name, value in parts.items()}
        for unit, amount in per.items()
    }


def _well_formed(report: Any) -> bool:
    """Cheap shape check of a line read back (the full schema was checked on write)."""
    try:
        return (
            isinstance(report, dict)
            and isinstance(report["id"], str)
            and isinstance(report["created"], str)
            and all(
                isinstance(report["tokens"][k], int | None)  # None: a lost request's
                for k in ("prompt", "completion", "cached")
            )
            and isinstance(report["time_ms"]["total"], int | float)
            and all(isinstance(report["cost"][k], int | float) for k in ("energy_wh", "local"))
            and isinstance(report["cost"]["cloud_equivalent"], int | float | None)
        )
    except (KeyError, TypeError):
        return False


def local_day(created: str) -> dt.date | None:
    try:
        stamp = dt.datetime.fromisoformat(created)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone().date()


@dataclass
class ReadResult:
    reports: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # outcome events
    skipped: int = 0  # torn or invalid lines that were not read as data


class ReportLog:
    """An append-only JSON Lines file of reports, rotated at ``max_bytes``."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_line = max(max_bytes // LINE_SHARE, 1)
        self.keep = keep
        self._narrowed = False
        self.errors: list[str] = []  # write failures, told to the user once
        self._validator = jsonschema.Draft202012Validator(load_schema("report"))

    def files(self) -> list[Path]:
        """The log and its rotated files, oldest first."""
        rotated = [self.path.with_name(f"{self.path.name}.{n}") for n in range(self.keep, 0, -1)]
        return [p for p in [*rotated, self.path] if p.exists()]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = open_private(self.path.with_name(self.path.name + ".lock"), os.O_RDWR)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)

    def append(self, report: dict[str, Any]) -> bool:
        """Write one schema-valid report (or outcome event) as one line. False (and a
        note in ``errors``) when it is invalid or the disk refuses; the session goes on."""
        if "event" in report:
            if not well_formed_event(report):
                self.errors.append(f"outcome event not logged: {report!r:.200}")
                return False
            problem = None
        else:
            problem = next(iter(self._validator.iter_errors(report)), None)
        if problem is not None:
            self.errors.append(f"report {report.get('id')} not logged: {problem.message}")
            return False
        line = _line(report)
        if len(line) > self.max_line:
            shortened = self._shortened(report, len(line))
            if shortened is None:
                return False
            line = shortened
        try:
            private_dir(self.path.parent)
            with self._locked():
                self._rotate_if_needed()
                if not self._narrowed:  # generations an older version wrote 0644
                    self._narrowed = True
                    for old in self.files():
                        narrow_file(old)
                fd = open_private(self.path, os.O_RDWR | os.O_APPEND)
                try:
                    if _ends_torn(fd):
                        os.write(fd, b"\n")  # end a line a crash left unterminated
                    written = os.write(fd, line)  # the whole line in one write
                    while written < len(line):  # a short write (disk nearly full)
                        written += os.write(fd, line[written:])
                finally:
                    os.close(fd)
        except OSError as exc:
            self.errors.append(f"could not write the report log {self.path}: {exc}")
            return False
        return True

    def _shortened(self, report: dict[str, Any], size: int) -> bytes | None:
        """The line of ``report`` with its long strings shortened and a note saying so,
        or None (and the reason in ``errors``) when it is still over the line limit."""
        note = (
            f"shortened for the log: the report was {size} bytes, over its line limit of "
            f"{self.max_line}; strings over {SHORT_STRING} characters were cut"
        )
        short = {**_shorten(report), "log_note": note}
        line = _line(short)
        if len(line) <= self.max_line and self._validator.is_valid(short):
            return line
        self.errors.append(
            f"report {report.get('id')} not logged: {size} bytes, over the log's line "
            f"limit of {self.max_line} even with its strings shortened"
        )
        return None

    def _rotate_if_needed(self) -> None:
        """Rotate when the log is already over its limit: never because of the line
        about to be written (which is at most ``max_line``)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size < self.max_bytes:
            return
        oldest = self.path.with_name(f"{self.path.name}.{self.keep}")
        if oldest.exists():
            oldest.unlink()
        for number in range(self.keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{number}")
            if older.exists():
                older.rename(self.path.with_name(f"{self.path.name}.{number + 1}"))
        self.path.rename(self.path.with_name(f"{self.path.name}.1"))

    def read(self, since: float | None = None) -> ReadResult:
        """Every whole, well-formed report in the log files, oldest first (``since``: a
        POSIX time; rotated files last written before it are not read)."""
        out = ReadResult()
        for path in self.files():
            try:
                if since is not None and path != self.path and path.stat().st_mtime < since:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            lines = data.split(b"\n")
            if lines and lines[-1]:
                out.skipped += 1  # unterminated: a write that never finished
            for raw in lines[:-1]:
                if not raw.strip():
                    continue
                try:
                    report = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    out.skipped += 1
                    continue
                if _well_formed(report):
                    out.reports.append(report)
                elif well_formed_event(report):
                    out.events.append(report)
                else:
                    out.skipped += 1
        return out


def _line(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _shorten(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= SHORT_STRING else value[:SHORT_STRING] + "…"
    if isinstance(value, dict):
        return {key: _shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item) for item in value]
    return value


def _ends_torn(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


class LogWriter:
    """Appends reports to a :class:`ReportLog` in order on one worker thread, so that
    checking a report against the schema and writing it never holds up the answer to a
    keystroke. Each report is snapshotted as JSON when it is queued; :meth:`flush` waits
    until everything queued is on disk.

    The check runs in Python and holds the GIL for 1.5-3.5 ms per report (traced), which
    the event loop then waited for while the user typed; so reports are written in a
    pause of ``QUIET_S`` without new ones, and never later than ``MAX_DELAY_S`` after
    they were queued (a crash loses at most that much of the log)."""

    def __init__(self, log: ReportLog) -> None:
        self.log = log
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._last_put = 0.0
        self._now = threading.Event()  # set by flush: write without waiting for a pause

    def put(self, report: dict[str, Any]) -> None:
        line = json.dumps(report, ensure_ascii=False)  # later changes to the dict stay out
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="edgewise-report-log", daemon=True
                )
                self._thread.start()
        self._last_put = time.monotonic()
        self._queue.put(line)

    def _wait_for_quiet(self) -> None:
        first = time.monotonic()
        while not self._now.is_set():
            now = time.monotonic()
            quiet, held = now - self._last_put, now - first
            if quiet >= QUIET_S or held >= MAX_DELAY_S:
                return
            self._now.wait(min(QUIET_S - quiet, MAX_DELAY_S - held))

    def _run(self) -> None:
        while True:
            line = self._queue.get()
            try:
                if line is None:
                    return
                self._wait_for_quiet()
                self.log.append(json.loads(line))
            except Exception as exc:  # never lose the thread: say it, go on
                self.log.errors.append(f"could not log a report: {exc}")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        self._now.set()
        try:
            self._queue.join()
        finally:
            self._now.clear()

    def close(self) -> None:
        """Write what is queued and stop the thread (a later report starts it again)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._now.set()
            self._queue.put(None)
            thread.join()
        self.flush()


class Ledger:
    """The session's running totals (exact however many reports are kept in memory) and
    the log every report is written to (off the caller's thread, see :class:`LogWriter`)."""

    def __init__(self, log: ReportLog | None) -> None:
        self.log = log
        self.session = empty_totals()
        self.outcomes = Outcomes(keep=OUTCOMES_KEPT)
        self._writer = LogWriter(log) if log is not None else None
        # told of each report recorded (the budget's running figures)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    def record(self, report: dict[str, Any]) -> None:
        add_report(self.session, report)
        self.outcomes.add_report(report)
        self.session.update(self.outcomes.to_dict())
        if self._writer is not None:
            self._writer.put(report)
        for listener in self.listeners:
            listener(report)

    def outcome(self, event: dict[str, Any]) -> None:
        """An outcome event (report/outcomes.py ``make_event``): into the session's
        split and the log."""
        self.outcomes.add_event(event)
        self.session.update(self.outcomes.to_dict())
        if self._writer is not None:
            self._writer.put(event)

    def read(self, since: float | None = None) -> ReadResult:
        """Everything in the log (what is pending written first; ``since``: see
        :meth:`ReportLog.read`)."""
        if self.log is None:
            return ReadResult()
        self.flush()
        return self.log.read(since)

    def flush(self) -> None:
        """Every report recorded so far is in the log (or its failure in ``log.errors``)."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    def today(self, day: dt.date | None = None, read: ReadResult | None = None) -> dict[str, Any]:
        """Totals of the reports logged today (local time), by every session (``read``:
        the log as just read, to read it once for several figures)."""
        day = day or dt.date.today()
        if self.log is None:
            return dict(self.session)
        read = read or self.read()
        out = totals((r for r in read.reports if local_day(r["created"]) == day), read.events)
        out["skipped_lines"] = read.skipped
        return out
