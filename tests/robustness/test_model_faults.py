"""Model faults: each gives a clear outcome and the next request works."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.model.backend import GenerationRequest
from tests.lsp.sample_files import PYTHON

URI = "file:///work/project/files.py"


def engine(model: Path, **settings: object) -> Engine:
    raw = {"model": str(model), "debounceMs": 0, **settings}
    return Engine(parse_settings(raw).settings, allow_download=False)


async def test_prompt_longer_than_the_context_is_cut_to_fit(tiny_model: Path):
    eng = engine(tiny_model, contextLength=256, contextBudget=4096, maxTokens=32)
    try:
        long_file = "x = 1\n" * 3000 + PYTHON
        result = await eng.complete(URI, long_file, Pos(3006, 8), "python")
        assert result.report["tokens"]["prompt"] <= 256 - 32 - 1
        assert any("lowered" in note for note in result.report["context"]["notes"])
        assert result.text
    finally:
        eng.close()


async def test_generation_hitting_the_time_cap_stops_and_says_so(tiny_model: Path):
    eng = engine(tiny_model, maxCompletionMs=300, contextLength=8192)
    try:
        backend = await eng.host.backend()
        started = time.monotonic()
        request = GenerationRequest(
            prompt=backend.tokenize(PYTHON),
            max_tokens=6000,
            deadline=started + eng.settings.max_completion_ms / 1000.0,
        )
        result = await eng.host.generate(request)
        assert result.stop_reason == "time"
        assert result.completion_tokens < 6000
    finally:
        eng.close()


async def test_the_worker_raising_mid_generation_does_not_break_the_next_request(
    tiny_model: Path,
):
    eng = engine(tiny_model)
    try:
        backend = await eng.host.backend()
        calls = []

        def explode(text: str) -> int | None:
            calls.append(text)
            if len(calls) == 3:
                raise RuntimeError("boom in the middle of generation")
            return None

        request = GenerationRequest(
            prompt=backend.tokenize("def f():\n"), max_tokens=20, stop=explode
        )
        with pytest.raises(RuntimeError, match="boom"):
            await eng.host.generate(request)
        assert len(calls) == 3  # it really was mid-generation
        result = await eng.complete(URI, PYTHON, Pos(6, 8), "python")
        assert result.text and result.report["tokens"]["completion"] >= 1
    finally:
        eng.close()


async def test_a_model_without_fim_tokens_completes_with_a_prefix_prompt(smollm2: Path):
    eng = engine(smollm2, maxTokens=8)
    try:
        result = await eng.complete(URI, PYTHON, Pos(6, 8), "python")
        assert result.report["prompt_format"] == "prefix"
        assert "<|fim" not in (eng.last_prompt or {})["text"]
        assert result.report["model"]["name"].lower().startswith("smollm2")
    finally:
        eng.close()


async def test_cancelling_stops_generation_between_tokens(tiny_model: Path):
    eng = engine(tiny_model, contextLength=8192)
    try:
        backend = await eng.host.backend()
        prompt = backend.tokenize(PYTHON)
        generating = threading.Event()

        def note_progress(text: str) -> None:
            generating.set()  # the model is producing tokens now

        request = GenerationRequest(prompt=prompt, max_tokens=8000, stop=note_progress)
        task = asyncio.create_task(eng.host.generate(request))
        await asyncio.to_thread(generating.wait, 30)
        request.cancel.set()  # what a superseding request does
        result = await asyncio.wait_for(task, timeout=10)
        assert result.stop_reason == "cancelled"
        assert 0 < result.completion_tokens < 8000

        # $/cancelRequest cancels the asyncio task: the worker stops and is free again
        generating.clear()
        request = GenerationRequest(prompt=prompt, max_tokens=8000, stop=note_progress)
        task = asyncio.create_task(eng.host.generate(request))
        await asyncio.to_thread(generating.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert request.cancel.is_set()
        quick = await asyncio.wait_for(
            eng.host.generate(GenerationRequest(prompt=prompt, max_tokens=4)), timeout=10
        )
        assert quick.completion_tokens == 4
    finally:
        eng.close()
