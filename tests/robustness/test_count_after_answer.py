"""A completion the LSP server answers before logging its report does not wait for the
whole file's token count (a 10,000-line file: tens of milliseconds while the model runs):
a count that comes later is added to the report, the same report, before it is logged."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from tests.lsp.sample_files import PYTHON

URI = "file:///work/project/files.py"
SLOW_COUNT_S = 1.0


async def test_the_answer_comes_before_a_slow_count_and_the_report_gets_it(tiny_model: Path):
    raw = {"model": str(tiny_model), "debounceMs": 0, "minConfidence": 0, "maxTokens": 4}
    eng = Engine(parse_settings(raw).settings, allow_download=False, report_log=False)
    counter = eng.whole_file
    count = counter._count

    def slow_count(*args: Any) -> int | None:  # a count that takes longer than the model
        time.sleep(SLOW_COUNT_S)
        return count(*args)

    counter._count = slow_count  # type: ignore[method-assign]
    try:
        began = time.monotonic()
        result = await eng.complete(URI, PYTHON, Pos(4, 8), "python", defer_log=True)
        answered = time.monotonic() - began
        assert answered < SLOW_COUNT_S, "the answer waited for the count"
        assert "whole_file" not in result.report["tokens"]
        report_id = result.report["id"]
        assert report_id not in eng.session.reports  # not logged yet

        await result.logged()
        assert result.report["id"] == report_id
        whole = result.report["tokens"]["whole_file"]
        assert whole > 0
        assert "context_saving" in result.report["cost"]  # what sending the file would cost
        assert eng.session.reports[report_id]["tokens"]["whole_file"] == whole

        # without deferring (batch, benchmarks) the count is waited for as before
        counter._count = count  # type: ignore[method-assign]
        again = await eng.complete(URI, PYTHON + "\n", Pos(4, 8), "python")
        await asyncio.sleep(0)
        assert again.report["id"] in eng.session.reports
    finally:
        eng.close()
