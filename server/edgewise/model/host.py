"""Loads the configured model once, on the worker thread, and runs requests there."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

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

    @classmethod
    def of(cls, settings: Settings) -> LoadKey:
        return cls(
            settings.model,
            settings.backend,
            settings.context_length,
            settings.threads,
            settings.seed,
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
            resolved.path, key.context_length, key.threads, key.seed, cache_dir(), resolved.name
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

    def close(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            self.worker.submit(backend.close)
        self.worker.shutdown()
