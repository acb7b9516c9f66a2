"""Progress of a batch run: a rich progress bar on a terminal, plain log lines otherwise.

Both go to stderr; stdout carries only the diffs (dry run), so it can be piped.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, Protocol, TextIO

from edgewise.batch.records import OUTCOMES

OUTCOME_WIDTH = max(len(outcome) for outcome in OUTCOMES)  # the file column lines up


def write_out(out: TextIO, text: str) -> None:
    """Writes to stdout; a closed pipe or a lost terminal must not stop the file
    being committed (the report still says what happened)."""
    with contextlib.suppress(OSError, ValueError):
        out.write(text)
        out.flush()


def money(value: float, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{value:.6f}" if symbol else f"{value:.6f} {currency}"


def duration(seconds: float) -> str:
    """``1h02m03s`` or ``2m03s``."""
    seconds = max(int(seconds), 0)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, tokens: int, spent: float) -> None:
        """A target's model call finished (running totals so far)."""

    def target_done(self, record: dict[str, Any]) -> None:
        """A target's outcome is known (its file was committed)."""

    def note(self, message: str) -> None: ...

    def diff(self, text: str) -> None: ...

    def stop(self) -> None: ...


class PlainProgress:
    """One line per target on stderr: ``[done/total] outcome file::symbol … eta``."""

    def __init__(self, stream: TextIO, out: TextIO, currency: str) -> None:
        self.stream = stream
        self.out = out
        self.currency = currency
        self.total = 0
        self.done = 0  # model calls finished
        self.recorded = 0  # outcomes known
        self.tokens = 0
        self.spent = 0.0
        self.started = time.monotonic()

    def start(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.note(f"{total} target(s) to run")

    def advance(self, tokens: int, spent: float) -> None:
        self.done += 1
        self.tokens = tokens
        self.spent = spent

    def target_done(self, record: dict[str, Any]) -> None:
        self.recorded += 1
        elapsed = time.monotonic() - self.started
        left = self.total - self.done
        eta = duration(elapsed / self.done * left) if self.done and left > 0 else "0m00s"
        target = record["target"]
        tok = record["tokens"]
        self.note(
            f"[{self.recorded}/{self.total}] {record['outcome']} "
            f"{target['file']}::{target['symbol']} "
            f"({tok['prompt']}+{tok['completion']} tok, {record['time_ms']['total'] / 1000:.2f} s);"
            f" so far {self.tokens} tok, {money(self.spent, self.currency)}; eta {eta}"
        )

    def note(self, message: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # the terminal may be gone (SIGHUP)
            print(f"edgewise: {message}", file=self.stream, flush=True)

    def diff(self, text: str) -> None:
        write_out(self.out, text)

    def stop(self) -> None:
        pass


class RichProgress:
    """A progress bar with targets done, tokens, running cost and time remaining."""

    def __init__(self, out: TextIO, currency: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichBar

        self.console = Console(stderr=True)
        self.out = out
        self.currency = currency
        self.bar = RichBar(
            TextColumn("[bold]edgewise refactor"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tokens]} tok"),
            TextColumn("{task.fields[cost]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=self.console,
            redirect_stdout=out.isatty(),
            redirect_stderr=False,
        )
        self.task: Any = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task(
            "targets", total=total, tokens=0, cost=money(0.0, self.currency)
        )

    def advance(self, tokens: int, spent: float) -> None:
        self.bar.update(self.task, advance=1, tokens=tokens, cost=money(spent, self.currency))

    def target_done(self, record: dict[str, Any]) -> None:
        target = record["target"]
        self.bar.console.print(
            f"{record['outcome']:<{OUTCOME_WIDTH}} {target['file']}::{target['symbol']}",
            markup=False,
            highlight=False,
        )

    def note(self, message: str) -> None:
        self.bar.console.print(f"edgewise: {message}", markup=False, highlight=False)

    def diff(self, text: str) -> None:
        write_out(self.out, text)

    def stop(self) -> None:
        self.bar.stop()


def make_progress(currency: str, out: TextIO | None = None, err: TextIO | None = None) -> Progress:
    out = out or sys.stdout
    err = err or sys.stderr
    if err.isatty():
        return RichProgress(out, currency)
    return PlainProgress(err, out, currency)
