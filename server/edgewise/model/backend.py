"""What every model backend offers the engine, and what it gives back.

A backend knows nothing of LSP: it tokenizes, formats prompts and generates tokens with
their probabilities and timings. The engine does the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeGuard

from edgewise.errors import ModelError as ModelError  # defined with its kin there

if TYPE_CHECKING:
    from edgewise.model.sent import SentFacts


class Cancelled(Exception):
    """The request was cancelled or superseded before the model ran."""


@dataclass(frozen=True)
class FimTokens:
    prefix: int
    suffix: int
    middle: int
    extra_stops: tuple[int, ...] = ()


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    sha256: str
    backend: str
    context_length: int
    fim: FimTokens | None
    chat_template: str | None
    n_vocab: int
    token_healing: bool = False  # honours GenerationRequest.heal_prefix


# Returns the number of characters of `text` to keep when generation must stop there,
# or None to go on.
StopCheck = Callable[[str], int | None]


@dataclass
class GenerationRequest:
    prompt: list[int]
    max_tokens: int
    temperature: float = 0.0
    seed: int = 42
    stop: StopCheck | None = None
    deadline: float | None = None  # time.monotonic() value
    cancel: threading.Event = field(default_factory=threading.Event)
    # Token healing: the first generated tokens must spell out this text (removed from
    # the end of the prompt). Those characters are left out of the result's text and
    # pieces; the tokens' probabilities are conditional on spelling them.
    heal_prefix: str = ""
    # The same prompt in the forms a remote server may want instead of token ids (the
    # embedded backend ignores them): the text with special markers spelled out, the
    # chat messages an action's prompt was rendered from, and the three FIM parts
    # (context before, text after, current line before the cursor) for /infill.
    text: str | None = None
    messages: list[dict[str, str]] | None = None
    infill: tuple[str, str, str] | None = None
    # Reuse the KV cache of the previous prompt's common prefix (False: evaluate the whole
    # prompt, the baseline of bench/latency.py).
    reuse_prefix: bool = True
    # Once the prompt is evaluated, generation may go on this long past ``deadline``: a
    # prompt that has been paid for gets its tokens generated (embedded model).
    min_generation_ms: float = 0.0
    # Evaluating the prompt stops here instead of at ``deadline`` (embedded model): a
    # cold prompt on a slow CPU is evaluated through, unless a newer request supersedes it
    prompt_deadline: float | None = None


@dataclass
class GenerationResult:
    text: str
    pieces: list[str]  # text of each kept token (sums to text)
    probs: list[float]  # probability the model gave each kept token
    first_margin: float | None
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int  # every token generated, kept or not
    prompt_ms: float
    generation_ms: float
    total_ms: float
    queue_ms: float
    stop_reason: str  # eos | stop | max_tokens | time | cancelled
    source: str = "measured"  # of the token counts: measured | server-reported | estimated
    time_source: str | None = None  # of the times, when it differs from ``source``
    # prompt tokens in the model's cache when it stopped before the whole prompt was
    # evaluated (the rest is evaluated while idle, for the next request); None: all
    evaluated_tokens: int | None = None
    # what determines the text (prompt hash, sampler, stop rule, engine): set by ModelHost
    sent: SentFacts | None = None


class Backend(Protocol):
    def info(self) -> ModelInfo: ...

    def tokenize(self, text: str, special: bool = False) -> list[int]: ...

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is (the whole-file count: no list of them needed)."""
        ...

    def detokenize(self, tokens: list[int]) -> str: ...

    def detokenize_special(self, token: int) -> str: ...

    def bos(self) -> list[int]: ...

    def render_chat(self, messages: list[dict[str, str]]) -> str: ...

    def generate(self, request: GenerationRequest) -> GenerationResult: ...

    def close(self) -> None: ...


class WorkerBackend(Backend, Protocol):
    """A backend whose model runs in the model process, one request at a time."""

    async def agenerate(self, request: GenerationRequest) -> GenerationResult: ...


def runs_in_worker(backend: Backend | None) -> TypeGuard[WorkerBackend]:
    """``backend`` runs its model in the model process (test doubles wrapping one pass
    its ``in_worker`` on)."""
    return bool(getattr(backend, "in_worker", False))
