"""A prompt the model's cache does not hold is cut to what the model evaluates within
``coldPromptMs``, and the full prompt is evaluated once the cursor rests, so the next
request there has the whole context. Over stdio, with the tiny model in its worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.conftest import tiny_options
from tests.robustness.stdio_client import RawClient

URI = "file:///work/project/ledger.py"
# a file long enough that its full prompt is hundreds of tokens
TEXT = (
    "".join(
        f"def total_{i}(items: list[int]) -> int:\n"
        f'    """Sum of the items times {i}."""\n'
        f"    return sum(items) * {i}\n\n\n"
        for i in range(60)
    )
    + "def grand_total(items: list[int]) -> int:\n    result = 0\n    \n"
)
LINE = TEXT.count("\n") - 1  # the last line, indented, empty


@pytest.fixture
def client(tiny_model: Path, request: pytest.FixtureRequest) -> Iterator[RawClient]:
    """A server with ``coldPromptMs`` set to the test's parameter, the file open."""
    started = RawClient()
    try:
        started.initialize(tiny_options(tiny_model, coldPromptMs=request.param))
        started.open(URI, TEXT)
        yield started
    finally:
        started.close()


def ask(client: RawClient, column: int) -> dict[str, Any]:
    reply = client.inline(URI, LINE, column, trigger=2)
    assert reply["result"]["items"], "the tiny model shows something (minConfidence 0)"
    report: dict[str, Any] = client.report_status(reply)["last"]
    return report


def cut(report: dict[str, Any]) -> bool:
    """The status's summary says the prompt was cut (the full report's context notes and
    ``context.cold`` say how)."""
    return "short context" in report["summary"]


# 1 ms: the tiny model evaluates thousands of tokens a second, so any prompt its cache
# does not hold waits longer than that
@pytest.mark.parametrize("client", [1], indirect=True)
def test_a_cold_prompt_is_cut_and_the_next_request_has_the_whole_prompt(client: RawClient):
    first = ask(client, 4)
    assert cut(first), first["summary"]
    assert first["tokens"]["cached"] <= 1

    time.sleep(1.5)  # the cursor rests: the whole prompt is evaluated meanwhile
    client.insert(URI, 2, LINE, 4, "r")
    again = ask(client, 5)
    assert not cut(again), again["summary"]
    assert again["tokens"]["prompt"] > 2 * first["tokens"]["prompt"]
    # the whole prompt was in the cache but for the typed character's line
    assert again["tokens"]["cached"] >= again["tokens"]["prompt"] - 16


@pytest.mark.parametrize("client", [0], indirect=True)
def test_cold_prompt_ms_0_never_cuts(client: RawClient):
    first = ask(client, 4)
    assert not cut(first)
    assert first["tokens"]["prompt"] > 300
