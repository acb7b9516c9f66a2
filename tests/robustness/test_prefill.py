"""Where the cursor rests, the prompt a completion there would send is evaluated in the
model process while the user is idle: the first completion evaluates only its tail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.lsp.sample_files import PYTHON
from tests.robustness.stdio_client import RawClient

RESTED = "file:///work/project/rested.py"
COLD = "file:///work/project/cold.py"


def completion_tokens(client: RawClient, uri: str) -> dict[str, Any]:
    reply = client.call(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": uri},
            "position": {"line": 6, "character": 8},
            "context": {"triggerKind": 1},
        },
        timeout=60,
    )
    assert "result" in reply, reply
    tokens: dict[str, Any] = client.report_status(reply)["last"]["tokens"]
    return tokens


def test_the_prompt_where_the_cursor_rests_is_evaluated_before_the_completion(tiny_model: Path):
    client = RawClient()
    try:
        client.initialize(
            {
                "model": str(tiny_model),
                "debounceMs": 0,
                "minConfidence": 0,
                "maxTokens": 4,
                "contextLength": 2048,
            }
        )
        # two documents that differ from their first line, so neither prompt shares more
        # than the first token or so with the other
        client.open(COLD, "import os\n" + PYTHON)
        client.open(RESTED, "import sys\n" + PYTHON)
        cold = completion_tokens(client, COLD)
        # the editor asks for code actions where the cursor rests (VS Code does as it moves)
        client.call(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": RESTED},
                "range": {
                    "start": {"line": 6, "character": 8},
                    "end": {"line": 6, "character": 8},
                },
                "context": {"diagnostics": []},
            },
        )
        time.sleep(1.5)  # the user looks at the code
        rested = completion_tokens(client, RESTED)
    finally:
        client.close()
    assert cold["cached"] < cold["prompt"] // 4, cold
    assert rested["cached"] >= rested["prompt"] - 2, rested
