"""`edgewise serve` with a test double of the backend for ONE property: the text of a
code action's reply is replaced by code with unbalanced brackets (every reply, or only
the first with ``EDGEWISE_TEST_UNBALANCED=once``, after which the model's own reply is
replaced by valid code). Everything else -- tokenizer, chat template, token counts,
timings, probabilities -- is the real tiny model in real llama.cpp.

Run as ``python -m tests.lsp.unbalanced_server``.
"""

from __future__ import annotations

import os
from typing import Any

from edgewise.model.backend import Backend, GenerationRequest, GenerationResult
from edgewise.model.host import LoadKey, ModelHost

UNBALANCED = "def area(width, height:\n    return ((width * height]\n"
VALID = "def area(width, height):\n    return height * width\n"


class UnbalancedReplies:
    """Wraps the real backend; only the reply text of generate() is replaced."""

    def __init__(self, inner: Backend, mode: str) -> None:
        self.inner = inner
        self.mode = mode
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def generate(self, request: GenerationRequest) -> GenerationResult:
        return self.replace(self.inner.generate(request))

    async def agenerate(self, request: GenerationRequest) -> GenerationResult:
        return self.replace(await self.inner.agenerate(request))  # type: ignore[attr-defined]

    def text(self) -> str:
        return UNBALANCED if self.mode == "always" or self.calls == 1 else VALID

    def replace(self, result: GenerationResult) -> GenerationResult:
        self.calls += 1
        text = self.text()
        result.text = text
        result.pieces = [text]
        result.probs = [min(result.probs) if result.probs else 0.5]
        return result


def main() -> None:
    from edgewise.lsp.server import create_server

    server = create_server()
    host: ModelHost = server.engine.host
    real_load = host._load
    mode = os.environ.get("EDGEWISE_TEST_UNBALANCED", "always")

    def load(key: LoadKey) -> Backend:
        return UnbalancedReplies(real_load(key), mode)  # type: ignore[return-value]

    host._load = load  # type: ignore[method-assign]
    server.start_io()


if __name__ == "__main__":
    main()
