"""A completion's prompt when the model's cache does not hold it yet.

After opening a file, or jumping far in it, the prompt a completion wants (up to
``contextBudget`` tokens) is not in the model process's KV cache: on a slow CPU
evaluating it takes seconds (measured here: ~1,000 tokens at ~190 tokens/s, 5-6 s),
and the suggestion comes too late to be of use. When the prompt would wait longer than
``coldPromptMs`` (estimated from the speed measured in the worker and what its cache
holds, see ``model/cache_mirror.py``), the request sends the prompt the context engine
chooses for the budget that fits in that time, and the full prompt is evaluated once
the cursor rests (the LSP server schedules it), so the next request at that place gets
the whole context. The report's context notes say when a prompt was cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgewise.model.backend import Backend
from edgewise.model.cache_mirror import CacheMirror
from edgewise.pipeline.services import Services

# fewer tokens than this is too little context to be worth a model run: sent even when
# the model takes longer than ``coldPromptMs`` for them
MIN_COLD_BUDGET = 64
BUDGET_STEP = 16


@dataclass(frozen=True)
class Cold:
    """A prompt cut to fit ``coldPromptMs``: how long the full one would have waited."""

    full_tokens: int
    wait_ms: float
    budget: int

    def to_dict(self) -> dict[str, Any]:
        """The report's ``context.cold``: the prompt sent was cut from this."""
        return {"full_tokens": self.full_tokens, "wait_ms": round(self.wait_ms, 1)}

    def note(self, limit_ms: int) -> str:
        return (
            f"the model's cache does not hold this prompt yet: its {self.full_tokens} "
            f"tokens would take ~{self.wait_ms / 1000.0:.1f} s here, over coldPromptMs "
            f"({limit_ms} ms); sent the context that fits in {self.budget} tokens (the "
            "full prompt is evaluated when the cursor rests)"
        )


def cold_budget(services: Services, backend: Backend, tokens: list[int]) -> Cold | None:
    """The budget a completion's prompt (``tokens``) is cut to when its evaluation would
    wait longer than ``coldPromptMs``; None when it is sent whole. The budget moves in
    steps of BUDGET_STEP tokens, so that the one chosen while the debounce runs (and its
    context with it, see ``prepare``) is still the one when the request runs."""
    limit = services.settings.cold_prompt_ms
    cache = getattr(backend, "cache", None)
    if not limit or not services.typing_optimizations or not isinstance(cache, CacheMirror):
        return None
    wait = cache.wait_ms(tokens)
    if wait is None or wait <= limit or cache.speed is None:
        return None
    fits = int(cache.speed * limit / 1000.0) // BUDGET_STEP * BUDGET_STEP
    budget = max(fits, MIN_COLD_BUDGET)
    if budget >= len(tokens):
        return None
    return Cold(len(tokens), wait, budget)
