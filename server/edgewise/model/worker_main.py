"""The model worker process: llama.cpp (weights, KV cache, sampling) runs here, never in
the language server, so that a native fault ends this process and not the editor's
connection. Started by ``worker_client.ModelProcess`` as
``python -m edgewise.model.worker_main``; it ends with its parent.

Messages (``worker_wire`` frames) on stdin, answers on the original stdout; what
native code prints goes to stderr. A reader thread takes ``cancel`` at once (the
generation stops between tokens or prompt chunks) and queues the rest for the main
thread. Every second the worker says it is alive and how far its cache has come, so
the server can tell a long evaluation from a hang.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import queue
import signal
import sys
import threading
import time
from typing import Any

from edgewise.model.backend import Cancelled, GenerationRequest, ModelError
from edgewise.model.worker_wire import FrameReader, encode, write_all

HEARTBEAT_S = 1.0
PR_SET_PDEATHSIG = 1
PROBE_PROMPT_TOKENS = 48
PROBE_GENERATED = 4
BENCH_TEXT = (
    "def fibonacci(n: int) -> int:\n"
    '    """The n-th Fibonacci number."""\n'
    "    a, b = 0, 1\n"
    "    for _ in range(n):\n"
    "        a, b = b, a + b\n"
    "    return a\n\n"
)


def die_with_parent(parent: int) -> None:
    """The kernel kills this process when the server ends, however it ends."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if parent and os.getppid() != parent:  # the parent was gone before prctl
        os._exit(0)


class Worker:
    def __init__(self, out_fd: int) -> None:
        self.out_fd = out_fd
        self._write_lock = threading.Lock()
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.backend: Any = None
        self._current: tuple[int, threading.Event] | None = None
        self._current_lock = threading.Lock()
        self._cancelled: set[int] = set()  # requests cancelled before they started
        self.busy = False
        self.prefill: list[int] | None = None  # evaluated while nothing else waits

    def send(self, message: dict[str, Any]) -> None:
        data = encode(message)
        with self._write_lock:
            write_all(self.out_fd, data)

    # --- threads ---------------------------------------------------------------------

    def read_loop(self, fd: int) -> None:
        reader = FrameReader(fd)
        try:
            while reader.read_some():
                for message in reader.frames():
                    if message.get("op") == "cancel":
                        with self._current_lock:
                            if self._current is not None and self._current[0] == message["id"]:
                                self._current[1].set()
                            else:  # still queued here: it is answered without running
                                self._cancelled.add(message["id"])
                    else:
                        self.inbox.put(message)
        except (OSError, ValueError):
            pass
        os._exit(0)  # the server closed the pipe (or wrote garbage): end with it

    def heartbeat(self) -> None:
        while True:
            time.sleep(HEARTBEAT_S)
            llm = getattr(self.backend, "_llm", None)
            cached = int(getattr(llm, "n_tokens", 0)) if llm is not None else 0
            try:
                self.send({"op": "alive", "busy": self.busy, "cached": cached})
            except OSError:
                os._exit(0)

    def run(self) -> None:
        while True:
            if self.prefill is not None and self.inbox.empty():
                self.run_prefill()
                continue
            message = self.inbox.get()
            # busy: the server expects the cache to move (a load may take its time)
            self.busy = message.get("op") in ("generate", "bench")
            try:
                self.handle(message)
            finally:
                self.busy = False

    # --- operations ------------------------------------------------------------------

    def handle(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        ident = message.get("id")
        try:
            if op == "load":
                self.send({"id": ident, **self.load(message["args"])})
            elif op == "generate":
                result = self.generate(int(message["id"]), message["request"])
                self.send({"id": ident, "result": result})
            elif op == "prefill":
                self.prefill = list(message["tokens"])
            elif op == "yield":  # a request is coming: its arrival stopped any prefill
                self.prefill = None
            elif op == "bench":
                self.send(
                    {"id": ident, **self.bench(message["prompt_tokens"], message["generate"])}
                )
            else:
                self.send({"id": ident, "error": f"unknown operation {op!r}", "kind": "internal"})
        except Cancelled:
            self.send({"id": ident, "cancelled": True})
        except ModelError as exc:
            self.send({"id": ident, "error": str(exc), "kind": "model"})
        except Exception as exc:  # a Python error here is an answer, not a crash
            self.send({"id": ident, "error": f"{type(exc).__name__}: {exc}", "kind": "internal"})

    def load(self, args: dict[str, Any]) -> dict[str, Any]:
        from edgewise.model.llama import LlamaBackend

        started = time.monotonic()
        backend = LlamaBackend.load(**args)
        loaded = time.monotonic()
        self.backend = backend
        # a short decode proves the model runs here before the server says it is ready
        # (a crashing fast path crashes now, not in the user's first completion), and
        # warms it up: the first completion does not pay for first-touch costs
        probe = self.bench(PROBE_PROMPT_TOKENS, PROBE_GENERATED)
        return {
            "info": backend.info(),
            "load_ms": (loaded - started) * 1000.0,
            **probe,
        }

    def generate(self, ident: int, fields: dict[str, Any]) -> Any:
        if self.backend is None:
            raise ModelError("the model is not loaded")
        self.prefill = None
        request = GenerationRequest(**fields)
        with self._current_lock:
            if ident in self._cancelled:
                self._cancelled.discard(ident)
                raise Cancelled()
            self._cancelled = {i for i in self._cancelled if i > ident}  # older: answered
            self._current = (ident, request.cancel)
        try:
            result = self.backend.generate(request)
        finally:
            with self._current_lock:
                self._current = None
        if result.evaluated_tokens is not None and result.stop_reason == "time":
            self.prefill = list(request.prompt)  # finish the prompt while idle
        return result

    def run_prefill(self) -> None:
        tokens, self.prefill = self.prefill, None
        if self.backend is None or not tokens:
            return
        self.backend.prefill(tokens, lambda: not self.inbox.empty())

    def bench(self, prompt_tokens: int, generate: int) -> dict[str, Any]:
        """Prompt and generation speed on this machine, from a real decode."""
        if self.backend is None:
            raise ModelError("the model is not loaded")
        backend = self.backend
        unit = backend.tokenize(BENCH_TEXT)
        n_ctx = backend.info().context_length
        size = max(8, min(prompt_tokens, n_ctx - generate - 2))
        prompt = (backend.bos() + unit * (size // max(len(unit), 1) + 1))[:size]
        result = backend.generate(
            GenerationRequest(prompt=prompt, max_tokens=generate, reuse_prefix=False)
        )
        self.prefill = None
        return {
            "prompt_tokens": result.prompt_tokens,
            "prompt_ms": result.prompt_ms,
            "generated_tokens": result.completion_tokens,
            "generation_ms": result.generation_ms,
            "system_info": system_info(),
        }


def system_info() -> str:
    import llama_cpp

    raw = llama_cpp.llama_print_system_info()
    return raw.decode("utf-8", "replace").strip() if isinstance(raw, bytes) else str(raw)


def request_fields(request: GenerationRequest) -> dict[str, Any]:
    """What of a request crosses to the worker (its cancel event stays behind)."""
    fields = {f.name: getattr(request, f.name) for f in dataclasses.fields(request)}
    fields.pop("cancel")
    return fields


def main() -> None:
    die_with_parent(int(os.environ.get("EDGEWISE_PARENT_PID", "0") or 0))
    # the server decides when this ends (a terminal's ^C or hangup reaches the whole
    # process group: the server then stops cleanly and this process goes with it)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    out_fd = os.dup(1)
    os.dup2(2, 1)  # whatever native code prints must not corrupt the frames
    sys.stdout = sys.stderr
    worker = Worker(out_fd)
    threading.Thread(target=worker.read_loop, args=(0,), daemon=True).start()
    threading.Thread(target=worker.heartbeat, daemon=True).start()
    worker.run()


if __name__ == "__main__":
    main()
