"""Loads the configured model once and runs requests on it: the embedded model in its
worker process (supervised: restarted after a crash, with safer settings after a native
fault), a remote server over HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgewise.config import Settings
from edgewise.model.backend import (
    Backend,
    Cancelled,
    GenerationRequest,
    GenerationResult,
    ModelError,
    WorkerBackend,
    runs_in_worker,
)
from edgewise.model.cpu_safety import choose_extra_buffers, cpu_flags, installed_llama_version
from edgewise.model.llama import LlamaBackend, ModelWorker, thread_counts
from edgewise.model.process_backend import ProcessBackend, WorkerFacts, speeds
from edgewise.model.registry import resolve_model
from edgewise.model.sent import SEEDED_SERVERS, EngineFacts, SentFacts
from edgewise.model.stops import Guarded, guarded
from edgewise.model.worker_client import ModelProcess, WorkerExit, WorkerGone
from edgewise.paths import cache_dir

log = logging.getLogger(__name__)

# The previous design, llama.cpp in the server's own process: only for bench/latency.py
# to measure the worker against (a native fault there ends the server).
IN_PROCESS_ENV = "EDGEWISE_MODEL_IN_PROCESS"
# Crashes of the model process within this window that make edgewise stop restarting it.
MAX_CRASHES = 3
CRASH_WINDOW_S = 600.0


@dataclass(frozen=True)
class LoadKey:
    model: str
    backend: str
    context_length: int
    threads: int
    seed: int
    cpu_extra_buffers: str = "auto"
    remote: tuple[str, str, str, int, int] = ("", "", "", 0, 0)

    @classmethod
    def of(cls, settings: Settings) -> LoadKey:
        remote = (
            settings.remote_model,
            settings.api_key_env,
            settings.remote_tokenizer,
            settings.request_timeout_ms,
            settings.max_parallel_requests,
        )
        return cls(
            settings.model,
            settings.backend,
            settings.context_length,
            settings.threads,
            settings.seed,
            settings.cpu_extra_buffers,
            remote if settings.backend != "embedded" else ("", "", "", 0, 0),
        )


class ModelHost:
    """Owns the worker thread and the backend loaded on it."""

    def __init__(self, settings: Settings, allow_download: bool = True) -> None:
        self.settings = settings
        self.allow_download = allow_download
        self.worker = ModelWorker()
        self._backend: Backend | None = None
        self._key: LoadKey | None = None
        self._error: ModelError | None = None
        self._lock = asyncio.Lock()
        self._slots: tuple[int, asyncio.Semaphore] | None = None  # remote requests in flight
        self._one = asyncio.Lock()  # the embedded model runs one request at a time
        self.notes: list[str] = []  # messages to tell the user once (e.g. fallback model)
        self.alerts: list[str] = []  # the same, as warnings (the model process crashed)
        # the model process's supervision: recent crashes, and the safer settings they led to
        self.crashes: list[float] = []
        self.safe_extra_buffers_off = False
        self.safe_threads: int | None = None
        self.state = "not loaded"  # loading | ready | restarting | crashed | error
        self.state_message = ""
        self.on_change: Callable[[], None] | None = None  # the state changed (on the loop)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine_facts: tuple[Backend, EngineFacts] | None = None

    def configure(self, settings: Settings) -> bool:
        """Take new settings; returns True when the model must be reloaded."""
        self.settings = settings
        if self._key is not None and self._key != LoadKey.of(settings):
            self.reset_supervision()
            self._key = None
            self._error = None
            old, self._backend = self._backend, None
            if old is not None:
                self.worker.submit(old.close)
            return True
        if self._error is not None and self._key != LoadKey.of(settings):
            self._error = None
        return False

    def _load(self, key: LoadKey) -> Backend:
        if key.backend != "embedded":
            from edgewise.model.remote import RemoteBackend  # issue: OpenAI-compatible

            return RemoteBackend.create(self.settings)
        resolved = resolve_model(key.model, self.allow_download)
        if resolved.note:
            self.notes.append(resolved.note)
        if os.environ.get(IN_PROCESS_ENV) == "1":  # bench/latency.py's baseline only
            return LlamaBackend.load(
                resolved.path, key.context_length, key.threads, key.seed, cache_dir(), resolved.name
            )
        return self._start_worker(key, resolved.path, resolved.name)

    def _start_worker(self, key: LoadKey, path: Any, name: str | None) -> ProcessBackend:
        """Starts the model process and loads the model there (a short decode proves it
        runs); the vocabulary alone is loaded here."""
        choice = choose_extra_buffers(key.cpu_extra_buffers, cpu_flags(), installed_llama_version())
        extra, reason = choice.extra_buffers, choice.reason
        if extra and self.safe_extra_buffers_off:
            extra, reason = (
                False,
                "the model process crashed in native code: extra buffer types off",
            )
        threads = self.safe_threads or key.threads
        process = ModelProcess(on_exit=self._worker_exited)
        args = {
            "path": path,
            "n_ctx": key.context_length,
            "threads": threads,
            "seed": key.seed,
            "sha_cache": cache_dir(),
            "name": name,
            "extra_buffers": extra,
        }
        _, future = process.call({"op": "load", "args": args})
        reply = future.result()  # the worker's own message when the file is bad
        if "error" in reply:
            process.stop()
            raise ModelError(reply["error"])
        try:
            vocab = LlamaBackend.load_vocab(path)
        except ModelError:
            process.stop()
            raise
        generation_threads, _ = thread_counts(threads, os.cpu_count() or 1)
        prompt_tps, generated_tps = speeds(reply)
        facts = WorkerFacts(
            pid=process.pid,
            system_info=reply["system_info"],
            extra_buffers=extra,
            extra_buffers_reason=reason,
            threads=generation_threads,
            load_ms=reply["load_ms"],
            prompt_tokens_per_s=prompt_tps,
            generated_tokens_per_s=generated_tps,
        )
        return ProcessBackend(process, vocab, reply["info"], facts)

    # --- supervision of the model process ----------------------------------------------

    def reset_supervision(self) -> None:
        self.crashes.clear()
        self.safe_extra_buffers_off = False
        self.safe_threads = None

    def _set_state(self, state: str, message: str = "") -> None:
        self.state, self.state_message = state, message
        if self.on_change is not None:
            self.on_change()

    def _worker_exited(self, exit: WorkerExit) -> None:
        """From the worker's reader thread: handled on the event loop."""
        if exit.stopped:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._after_crash, exit)

    def _after_crash(self, exit: WorkerExit) -> None:
        backend = self._backend
        if isinstance(backend, ProcessBackend) and backend.process.exit is exit:
            # the vocabulary stays open: a whole-file count may be using it on its thread
            self._backend, self._key = None, None
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < CRASH_WINDOW_S] + [now]
        change = ""
        if exit.native_fault:
            threads = self.safe_threads or self.settings.threads
            if not self.safe_extra_buffers_off and self.settings.cpu_extra_buffers != "on":
                self.safe_extra_buffers_off = True
                change = " with llama.cpp's extra CPU buffer types off (setting cpuExtraBuffers)"
            elif threads != 1:
                self.safe_threads = 1
                change = " with one thread (setting threads)"
        what = exit.describe()
        if len(self.crashes) >= MAX_CRASHES:
            advice = (
                'set `cpuExtraBuffers` to "off" and `threads` to 1, or choose a smaller `model`'
                if exit.native_fault or exit.hung
                else "free some memory, or choose a smaller `model` or `contextLength`"
            )
            message = (
                f"edgewise: {what}. It crashed {len(self.crashes)} times in "
                f"{CRASH_WINDOW_S / 60:.0f} minutes, so edgewise stopped restarting it: "
                f"{advice}; changing a setting tries again."
            )
            self._error = ModelError(message.removeprefix("edgewise: "))
            self._key = LoadKey.of(self.settings)
            self.alerts.append(message)
            self._set_state("crashed", message)
            return
        message = (
            f"edgewise: {what}. The request it was serving got no answer; "
            f"edgewise is starting it again{change}."
        )
        self.alerts.append(message)
        self._set_state("restarting", message)
        asyncio.ensure_future(self._restart())

    async def _restart(self) -> None:
        try:
            await self.backend()
        except ModelError:
            pass  # said through the state and the next request

    async def backend(self) -> Backend:
        self._loop = asyncio.get_running_loop()
        async with self._lock:
            key = LoadKey.of(self.settings)
            if self._backend is not None and self._key == key:
                return self._backend
            if self._error is not None and self._key == key:
                raise self._error
            self._key = key
            if self.state != "restarting":
                self._set_state("loading")
            try:
                backend: Backend = await asyncio.wrap_future(self.worker.submit(self._load, key))
                self._backend = backend
                self._error = None
            except WorkerGone as exc:  # it crashed while loading: supervision decides
                self._key = None
                raise ModelError(f"could not load the model: {exc}") from exc
            except ModelError as exc:
                if key.backend == "embedded":  # a remote server may come back: try again
                    self._error = exc
                self._set_state("error", str(exc))
                raise
            except Exception as exc:  # an unexpected loader failure is still a model error
                self._error = ModelError(f"could not load the model: {type(exc).__name__}: {exc}")
                self._set_state("error", str(self._error))
                raise self._error from exc
            self._set_state("ready")
            return backend

    def loaded(self) -> Backend | None:
        return self._backend

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """The model's answer, with what determines its text (``result.sent``)."""
        backend = await self.backend()
        asked = request.stop.inner if isinstance(request.stop, Guarded) else request.stop
        request.stop = guarded(asked)  # every generation: stop when it loops
        try:
            result = await self._generate(backend, request)
        finally:
            request.stop = asked  # what the request asked for (a replay is guarded again)
        result.sent = SentFacts.of(
            request, result.text, result.stop_reason, self.engine_facts(backend)
        )
        return result

    def engine_facts(self, backend: Backend) -> EngineFacts:
        """The backend, its version, threads and CPU features (once per loaded backend)."""
        known = self._engine_facts
        if known is not None and known[0] is backend:
            return known[1]
        server = getattr(backend, "facts", None)
        kind = getattr(server, "kind", None)
        if isinstance(kind, str):  # a remote server
            version = str(getattr(server, "version", "") or "unknown")
            facts = EngineFacts(f"remote:{kind}", version, None, None, kind in SEEDED_SERVERS)
        else:
            worker = self.facts()
            threads = thread_counts(self.safe_threads or self.settings.threads, os.cpu_count() or 1)
            facts = EngineFacts(
                "llama-cpp-python",
                installed_llama_version(),
                threads,
                worker.system_info if worker is not None else None,
                True,
            )
        self._engine_facts = (backend, facts)
        return facts

    async def _generate(self, backend: Backend, request: GenerationRequest) -> GenerationResult:
        if runs_in_worker(backend):
            return await self._generate_embedded(backend, request)
        if hasattr(backend, "agenerate"):
            return await self._generate_remote(backend, request)
        submitted = time.monotonic()

        def run() -> GenerationResult:
            started = time.monotonic()
            result = backend.generate(request)
            result.queue_ms = (started - submitted) * 1000.0
            return result

        future = self.worker.submit(run)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            request.cancel.set()  # stops generation between tokens
            future.cancel()
            raise
        except Cancelled:
            raise asyncio.CancelledError() from None

    async def _generate_embedded(
        self, backend: WorkerBackend, request: GenerationRequest
    ) -> GenerationResult:
        submitted = time.monotonic()
        async with self._one:
            queue_ms = (time.monotonic() - submitted) * 1000.0
            try:
                result = await backend.agenerate(request)
            except Cancelled:
                raise asyncio.CancelledError() from None
        result.queue_ms = queue_ms
        return result

    def prefill(self, tokens: list[int]) -> None:
        """Evaluate a prompt's stable prefix in the worker while the user is idle."""
        backend = self._backend
        if isinstance(backend, ProcessBackend) and not self._one.locked():
            backend.prefill(tokens)

    def yield_prefill(self) -> None:
        """A completion is coming: a prefill under way in the worker stops."""
        backend = self._backend
        if isinstance(backend, ProcessBackend):
            backend.yield_prefill()

    def facts(self) -> WorkerFacts | None:
        backend = self._backend
        return backend.facts if isinstance(backend, ProcessBackend) else None

    # --- remote servers: up to maxParallelRequests at once, off the worker thread -------

    async def _generate_remote(self, backend: Any, request: GenerationRequest) -> GenerationResult:
        limit = self.settings.max_parallel_requests
        if self._slots is None or self._slots[0] != limit:
            self._slots = (limit, asyncio.Semaphore(limit))
        submitted = time.monotonic()
        async with self._slots[1]:
            queue_ms = (time.monotonic() - submitted) * 1000.0
            try:
                result: GenerationResult = await backend.agenerate(request)
            except Cancelled:
                raise asyncio.CancelledError() from None
            finally:
                self.notes.extend(backend.take_notes())
        result.queue_ms = queue_ms
        return result

    def close(self) -> None:
        backend, self._backend = self._backend, None
        if isinstance(backend, ProcessBackend):
            # now, not on the worker thread: the model process dies with the thread that
            # started it, and a shut-down executor may drop a queued close
            backend.close()
        elif backend is not None:
            self.worker.submit(backend.close)
        self.worker.shutdown()
