"""The server's side of the model worker process: starts it, sends it requests, reads
its answers on a thread, and notices when it dies or hangs.

The worker dies alone: every request it was serving fails with :class:`WorkerGone`,
which says how it ended (signal, likely cause, llama.cpp's last words on stderr), and
``on_exit`` is called once (from the reader thread).
"""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edgewise.model.backend import ModelError
from edgewise.model.worker_wire import FrameReader, encode, write_all

log = logging.getLogger(__name__)

# A busy worker whose cache has not moved for this long is hung, and is killed.
STALL_S = float(os.environ.get("EDGEWISE_WORKER_STALL_S", "60"))
NATIVE_FAULTS = {
    signal.SIGSEGV: "a memory fault in llama.cpp's native code",
    signal.SIGBUS: "a bus error in llama.cpp's native code",
    signal.SIGILL: "an instruction this CPU does not have, in llama.cpp's native code",
    signal.SIGFPE: "an arithmetic fault in llama.cpp's native code",
    signal.SIGABRT: "llama.cpp aborted (a failed assertion)",
}


@dataclass
class WorkerExit:
    """How the worker process ended."""

    returncode: int | None
    hung: bool = False  # the server killed it after it stopped making progress
    stopped: bool = False  # the server ended it on purpose
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def signal(self) -> int | None:
        code = self.returncode
        return -code if code is not None and code < 0 else None

    @property
    def native_fault(self) -> bool:
        return not self.hung and self.signal in NATIVE_FAULTS

    def signal_name(self) -> str:
        number = self.signal
        if number is None:
            return f"exit code {self.returncode}"
        try:
            return signal.Signals(number).name
        except ValueError:
            return f"signal {number}"

    def cause(self) -> str:
        number = self.signal
        if self.hung:
            return f"it made no progress for {STALL_S:.0f} s and was stopped"
        if number in NATIVE_FAULTS:
            return NATIVE_FAULTS[signal.Signals(number)]
        if number == signal.SIGKILL:
            return "killed from outside, most likely by the kernel's out-of-memory killer"
        if number is not None:
            return "ended by a signal from outside"
        return "it exited unexpectedly"

    def describe(self) -> str:
        said = next((line for line in reversed(self.stderr_tail) if line.strip()), "")
        last = f"; its last words: {said.strip()[:200]}" if said and not self.hung else ""
        return f"the model process ended ({self.signal_name()}: {self.cause()}{last})"


class WorkerGone(ModelError):
    """The worker process ended while serving a request (or before it could)."""

    def __init__(self, exit: WorkerExit) -> None:
        super().__init__(exit.describe())
        self.exit = exit


class ModelProcess:
    """One worker process: start it, call it, and learn when it ends."""

    def __init__(self, on_exit: Callable[[WorkerExit], None] | None = None) -> None:
        self.on_exit = on_exit
        self.exit: WorkerExit | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, concurrent.futures.Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._hung = False
        self._stopping = False
        self._progress = (time.monotonic(), -1)  # when the worker's cache last moved
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edgewise.model.worker_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={
                # OpenMP threads sleep at barriers instead of spinning: on a busy 2-core
                # machine, spinning made SmolLM2 2.5x slower (docs/model-process.md)
                "OMP_WAIT_POLICY": "passive",
                **os.environ,
                "EDGEWISE_PARENT_PID": str(os.getpid()),
            },
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in_fd = self.proc.stdin.fileno()
        threading.Thread(target=self._read, name="edgewise-worker-read", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="edgewise-worker-err", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.exit is None

    # --- calls -------------------------------------------------------------------------

    def call(self, message: dict[str, Any]) -> tuple[int, concurrent.futures.Future[Any]]:
        """Sends a request; its future has the worker's answer (a dict), or fails with
        :class:`WorkerGone`."""
        ident = next(self._ids)
        future: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        with self._lock:
            if self.exit is not None:
                future.set_exception(WorkerGone(self.exit))
                return ident, future
            self._pending[ident] = future
            if len(self._pending) == 1:
                self._progress = (time.monotonic(), -1)
        self.send({**message, "id": ident})
        return ident, future

    def send(self, message: dict[str, Any]) -> None:
        """A message without an answer (cancel, prefill); lost if the worker is gone."""
        data = encode(message)
        try:
            with self._write_lock:
                write_all(self._in_fd, data)
        except OSError:
            pass  # the reader sees the end and fails what was pending

    def stop(self, timeout: float = 2.0) -> None:
        """Ends the worker: its input closed, then killed if it has not gone."""
        self._stopping = True
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    # --- threads -----------------------------------------------------------------------

    def _read(self) -> None:
        assert self.proc.stdout is not None
        reader = FrameReader(self.proc.stdout.fileno())
        try:
            while True:
                ready, _, _ = select.select([reader.fd], [], [], 1.0)
                if not ready:
                    self._check_stall()
                    continue
                if not reader.read_some():
                    break
                for message in reader.frames():
                    self._dispatch(message)
        except (OSError, ValueError, EOFError):
            log.debug("reading the model process failed", exc_info=True)
            self.proc.kill()
        self._ended()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("op") == "alive":
            cached = int(message.get("cached", 0))
            if not message.get("busy") or cached != self._progress[1]:
                self._progress = (time.monotonic(), cached)
            return
        with self._lock:
            future = self._pending.pop(message.get("id", -1), None)
            self._progress = (time.monotonic(), self._progress[1])
        if future is not None and not future.done():
            future.set_result(message)

    def _check_stall(self) -> None:
        with self._lock:
            waiting = bool(self._pending)
        if waiting and time.monotonic() - self._progress[0] > STALL_S and not self._hung:
            log.warning("the model process made no progress for %.0f s: stopping it", STALL_S)
            self._hung = True
            self.proc.kill()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self._stderr.append(line)
            log.debug("model process: %s", line)

    def _ended(self) -> None:
        returncode = self.proc.wait()
        time.sleep(0.05)  # let the stderr reader take the last lines
        exit = WorkerExit(returncode, self._hung, self._stopping, list(self._stderr))
        with self._lock:
            self.exit = exit
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WorkerGone(exit))
        if not exit.stopped:
            log.warning("%s", exit.describe())
        if self.on_exit is not None:
            self.on_exit(exit)
