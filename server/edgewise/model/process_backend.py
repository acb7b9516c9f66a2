"""The embedded model behind its worker process.

Tokenizing, counting, chat templates and detokenizing run here, in the server, on the
model's vocabulary alone (no weights); generation runs in the worker. A request's
cancel event is watched here and forwarded, so superseding a generation still stops it
between tokens.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from typing import Any

from edgewise.model.backend import (
    Cancelled,
    GenerationRequest,
    GenerationResult,
    ModelError,
    ModelInfo,
)
from edgewise.model.cache_mirror import CacheMirror
from edgewise.model.llama import LlamaBackend
from edgewise.model.worker_client import ModelProcess
from edgewise.model.worker_main import request_fields

CANCEL_POLL_S = 0.02


@dataclass(frozen=True)
class WorkerFacts:
    """What the worker found when it loaded the model (for status and `doctor`)."""

    pid: int
    system_info: str
    extra_buffers: bool
    extra_buffers_reason: str
    threads: int
    load_ms: float
    prompt_tokens_per_s: float | None  # of the decode that proved the model runs
    generated_tokens_per_s: float | None


class ProcessBackend:
    in_worker = True  # what the host runs one request at a time (test doubles pass it on)

    def __init__(
        self, process: ModelProcess, vocab: LlamaBackend, info: ModelInfo, facts: WorkerFacts
    ) -> None:
        self.process = process
        self.vocab = vocab
        self._info = info
        self.facts = facts
        self.cache = CacheMirror(facts.prompt_tokens_per_s)
        self.prefilling = False  # a prefill was sent and no request since

    # --- the vocabulary, here ------------------------------------------------------------

    def info(self) -> ModelInfo:
        return self._info

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return self.vocab.tokenize(text, special)

    def count_tokens(self, text: str) -> int:
        return self.vocab.count_tokens(text)

    def detokenize(self, tokens: list[int]) -> str:
        return self.vocab.detokenize(tokens)

    def detokenize_special(self, token: int) -> str:
        return self.vocab.detokenize_special(token)

    def bos(self) -> list[int]:
        return self.vocab.bos()

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        return self.vocab.render_chat(messages)

    # --- the model, in the worker ----------------------------------------------------------

    async def agenerate(self, request: GenerationRequest) -> GenerationResult:
        if request.cancel.is_set():
            raise Cancelled()
        ident, future = self.process.call({"op": "generate", "request": request_fields(request)})
        self.cache.evaluating(request.prompt)
        self.prefilling = False
        waiting = asyncio.wrap_future(future)
        forwarded = False
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=CANCEL_POLL_S)
                if done:
                    break
                if request.cancel.is_set() and not forwarded:
                    self.process.send({"op": "cancel", "id": ident})
                    forwarded = True
        except asyncio.CancelledError:
            self.process.send({"op": "cancel", "id": ident})
            request.cancel.set()
            self.cache.stopped()
            raise
        return self.settled(request, waiting.result())

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """The same, blocking (for callers on a thread)."""
        ident, future = self.process.call({"op": "generate", "request": request_fields(request)})
        self.cache.evaluating(request.prompt)
        while True:
            try:
                return self.settled(request, future.result(timeout=CANCEL_POLL_S))
            except concurrent.futures.TimeoutError:
                if request.cancel.is_set():
                    self.process.send({"op": "cancel", "id": ident})

    def prefill(self, tokens: list[int]) -> None:
        """Evaluate ``tokens`` into the worker's cache while nothing else is asked."""
        self.process.send({"op": "prefill", "tokens": list(tokens)})
        self.cache.evaluating(tokens)
        self.prefilling = True

    def yield_prefill(self) -> None:
        """A request is on its way (its debounce runs): the worker stops a prefill at
        its next step, so that the cores are free when the request is prepared and sent."""
        if self.prefilling:
            self.prefilling = False
            self.process.send({"op": "yield"})
            self.cache.stopped()

    def settled(self, request: GenerationRequest, reply: dict[str, Any]) -> GenerationResult:
        """The answer of ``request``; what it left in the cache is noted."""
        try:
            result = answer(reply)
        except (Cancelled, ModelError):
            self.cache.stopped()  # where it stopped is not said: as far as it got by now
            raise
        self.cache.settled(
            request.prompt,
            result.evaluated_tokens,
            result.prompt_ms,
            result.prompt_tokens - result.cached_tokens,
        )
        return result

    async def bench(self, prompt_tokens: int = 256, generate: int = 32) -> dict[str, Any]:
        """A real decode in the worker: prompt and generation speed here."""
        _, future = self.process.call(
            {"op": "bench", "prompt_tokens": prompt_tokens, "generate": generate}
        )
        reply: dict[str, Any] = await asyncio.wrap_future(future)
        if "error" in reply:
            raise ModelError(reply["error"])
        return reply

    def close(self) -> None:
        """Stops the model process. The vocabulary is not freed here: a whole-file count
        may still be running on another thread (freeing it under that count crashed the
        process); it is freed with the last reference to it."""
        self.process.stop()


def answer(reply: dict[str, Any]) -> GenerationResult:
    if reply.get("cancelled"):
        raise Cancelled()
    if "error" in reply:
        raise ModelError(reply["error"])
    result: GenerationResult = reply["result"]
    return result


def speeds(reply: dict[str, Any]) -> tuple[float | None, float | None]:
    """Prompt and generated tokens per second of a bench reply."""
    prompt = reply["prompt_tokens"] / (reply["prompt_ms"] / 1000.0) if reply["prompt_ms"] else None
    made = reply["generated_tokens"]
    generated = (
        made / (reply["generation_ms"] / 1000.0) if reply["generation_ms"] and made else None
    )
    return prompt, generated
