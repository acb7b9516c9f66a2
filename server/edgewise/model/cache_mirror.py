"""What the model process's KV cache holds, as the server can tell without asking it.

The server sends every prompt and prefill the worker evaluates, so it knows the tokens
the cache holds or is heading for; how far an evaluation under way has come is
estimated from the measured prompt speed and the time since it began (the worker
evaluates a prefill at once when it is idle, and a request's answer says exactly how
far it came). The completion pipeline asks how long a prompt would wait here
(:meth:`CacheMirror.wait_ms`) before it decides what to send.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

# weight of the newest measurement in the prompt speed (an exponential moving average)
SPEED_WEIGHT = 0.5
# an evaluation this short says little about the speed (per-call costs dominate)
MIN_MEASURED_TOKENS = 32


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class CacheMirror:
    """The tokens the worker's cache holds (``known`` of ``tokens`` for certain, more
    as time passes while it evaluates them) and the prompt speed measured there."""

    def __init__(
        self, prompt_tokens_per_s: float | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.speed = prompt_tokens_per_s if prompt_tokens_per_s else None
        self.clock = clock
        self.tokens: list[int] = []
        self.known = 0  # of ``tokens``, evaluated for certain
        self.since: float | None = None  # evaluation of the rest began then (None: idle)

    def held(self, now: float | None = None) -> int:
        """How many of ``tokens`` are in the cache by now (estimated while evaluating)."""
        if self.since is None or not self.speed:
            return self.known
        elapsed = (self.clock() if now is None else now) - self.since
        return min(len(self.tokens), self.known + int(max(elapsed, 0.0) * self.speed))

    def evaluating(self, tokens: Sequence[int]) -> None:
        """The worker starts evaluating ``tokens`` (a prefill, or a request's prompt)."""
        now = self.clock()
        kept = common_prefix(self.tokens[: self.held(now)], tokens)
        self.tokens = list(tokens)
        self.known = kept
        self.since = now

    def settled(
        self, prompt: Sequence[int], evaluated: int | None, prompt_ms: float, new_tokens: int
    ) -> None:
        """A request's answer came: ``evaluated`` tokens of its prompt are in the cache
        (None: all of it), ``new_tokens`` of them evaluated in ``prompt_ms``."""
        self.tokens = list(prompt)
        self.known = len(self.tokens) if evaluated is None else min(evaluated, len(self.tokens))
        self.since = None
        if new_tokens >= MIN_MEASURED_TOKENS and prompt_ms > 0:
            measured = new_tokens / (prompt_ms / 1000.0)
            self.speed = (
                measured
                if self.speed is None
                else SPEED_WEIGHT * measured + (1 - SPEED_WEIGHT) * self.speed
            )

    def stopped(self) -> None:
        """The evaluation under way stopped (cancelled): as far as it got by now."""
        self.known, self.since = self.held(), None

    def uncached(self, prompt: Sequence[int]) -> int:
        """Tokens of ``prompt`` the worker would evaluate now."""
        return len(prompt) - common_prefix(self.tokens[: self.held()], prompt)

    def wait_ms(self, prompt: Sequence[int]) -> float | None:
        """How long evaluating ``prompt`` would take here (None: speed not measured)."""
        if not self.speed:
            return None
        return self.uncached(prompt) / self.speed * 1000.0
