"""`edgewise serve` whose model replies are crafted by the test: the text of each code
action's reply is replaced by the next of ``EDGEWISE_TEST_REPLIES`` (a JSON list; the
last one repeats). Everything else -- tokenizer, chat template, token counts, timings,
probabilities -- is the real tiny model in real llama.cpp, and everything after the
reply (rendering, the syntax gate, the test guard, the project's checkers) is real.

Run as ``python -m tests.lsp.crafted_server``.
"""

from __future__ import annotations

import json
import os

from edgewise.model.backend import Backend
from edgewise.model.host import LoadKey, ModelHost
from tests.lsp.unbalanced_server import UnbalancedReplies

REPLIES_ENV = "EDGEWISE_TEST_REPLIES"


class CraftedReplies(UnbalancedReplies):
    """Wraps the real backend; the n-th reply's text is the n-th crafted one."""

    def __init__(self, inner: Backend, replies: list[str]) -> None:
        super().__init__(inner, "crafted")
        self.replies = replies

    def text(self) -> str:
        return self.replies[min(self.calls - 1, len(self.replies) - 1)]


def main() -> None:
    from edgewise.lsp.server import create_server

    server = create_server()
    host: ModelHost = server.engine.host
    real_load = host._load
    replies = json.loads(os.environ[REPLIES_ENV])

    def load(key: LoadKey) -> Backend:
        return CraftedReplies(real_load(key), replies)  # type: ignore[return-value]

    host._load = load  # type: ignore[method-assign]
    server.start_io()


if __name__ == "__main__":
    main()
