"""Python's garbage collector, kept out of the time between a completion's model answer
and the editor's answer.

Measured with ``gc.callbacks`` in the server during bench/latency.py: a pass over the
young generations stops the server for 1-2 ms, a full pass for 20-50 ms, at moments
set by allocation counts. One that lands after the debounce and before the answer is
written adds to what the person waits for. While a completion holds the collector
(:meth:`CollectorPause.hold`), it does not run; it is released once the answer is
written (a done callback of the request's task, after pygls' own), and the allocations
made meanwhile are collected then.
"""

from __future__ import annotations

import asyncio
import gc


class CollectorPause:
    def __init__(self) -> None:
        self.holders = 0
        self.paused = False  # the collector was on, and this turned it off

    def hold(self) -> None:
        if self.holders == 0 and gc.isenabled():
            gc.disable()
            self.paused = True
        self.holders += 1

    def release(self) -> None:
        self.holders = max(self.holders - 1, 0)
        if self.holders == 0 and self.paused:
            self.paused = False
            gc.enable()

    def hold_until_answered(self) -> None:
        """Holds the collector until the current request's task ends (its answer is
        then written: pygls' done callback comes first)."""
        task = asyncio.current_task()
        if task is None:
            return
        self.hold()
        task.add_done_callback(lambda _: self.release())
