"""Progress of `edgewise calibrate` on stderr: a bar with the positions done, the time
spent and the time left on a terminal; elsewhere a line every few positions with the
same figures. The estimate is the mean time per position so far times the positions
left (bounded by ``--time-limit`` when one is set)."""

from __future__ import annotations

import contextlib
import time
from typing import Any, TextIO

from edgewise.batch.progress import duration

PLAIN_EVERY = 10  # positions between two plain lines


class CalibrationProgress:
    def __init__(self, stream: TextIO, total: int, time_limit_s: float | None = None) -> None:
        self.stream = stream
        self.total = total
        self.time_limit_s = time_limit_s
        self.done = 0
        self.right = 0
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def start(self) -> None:
        self.started = time.monotonic()
        if not _isatty(self.stream):
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]edgewise calibrate"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[right]} right"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
        )
        self.bar.start()
        self.task = self.bar.add_task("positions", total=self.total, right=0)

    def advance(self, right: bool) -> None:
        self.done += 1
        self.right += int(right)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, right=self.right)
        elif self.done % PLAIN_EVERY == 0 or self.done == self.total:
            self.note(self.line())

    def eta_s(self) -> float:
        """Seconds left: the mean per position so far times the positions left, no
        later than the time limit."""
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        if self.time_limit_s is not None:
            left = min(left, max(self.time_limit_s - elapsed, 0.0))
        return left

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        share = self.done / self.total if self.total else 1.0
        width = 20
        filled = round(width * share)
        return (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"({share:.0%}), {self.right} right, elapsed {duration(elapsed)}, "
            f"eta {duration(self.eta_s())}"
        )

    def note(self, message: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self.bar is not None:
                self.bar.console.print(message, markup=False, highlight=False)
            else:
                print(message, file=self.stream, flush=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
