"""Loads the configured model once, on the worker thread, and runs requests there."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from edgewise.config import Settings
from edgewise.model.backend import (
    Backend,
    Cancelled,
    GenerationRequest,
    GenerationResult,
    ModelError,
)
from edgewise.model.llama import LlamaBackend, ModelWorker
from edgewise.model.registry import resolve_model
from edgewise.paths import cache_dir


@dataclass(frozen=True)
class LoadKey:
    model: str
    backend: str
    context_length: int
    threads: int
    seed: int
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
        self.notes: list[str] = []  # messages to tell the user once (e.g. fallback model)

    def configure(self, settings: Settings) -> bool:
        """Take new settings; returns True when the model must be reloaded."""
        self.settings = settings
        if self._key is not None and self._key != LoadKey.of(settings):
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
        return LlamaBackend.load(
            resolved.path, key.context_length, key.threads, key.seed, cache_dir()
        )

    async def backend(self) -> Backend:
        async with self._lock:
            key = LoadKey.of(self.settings)
            if self._backend is not None and self._key == key:
                return self._backend
            if self._error is not None and self._key == key:
                raise self._error
            self._key = key
            try:
                self._backend = await asyncio.wrap_future(self.worker.submit(self._load, key))
                self._error = None
            except ModelError as exc:
                if key.backend == "embedded":  # a remote server may come back: try again
                    self._error = exc
                raise
            except Exception as exc:  # an unexpected loader failure is still a model error
                self._error = ModelError(f"could not load the model: {type(exc).__name__}: {exc}")
                raise self._error from exc
            return self._backend

    def loaded(self) -> Backend | None:
        return self._backend

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        backend = await self.backend()
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
        if backend is not None:
            self.worker.submit(backend.close)
        self.worker.shutdown()
