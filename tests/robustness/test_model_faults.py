"""Model faults: each gives a clear outcome and the next request works."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.model.backend import GenerationRequest, ModelError
from tests.lsp.sample_files import PYTHON

URI = "file:///work/project/files.py"


def engine(model: Path, **settings: object) -> Engine:
    raw = {"model": str(model), "debounceMs": 0, "minConfidence": 0, **settings}
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


@dataclass
class ExplodeOnCall:
    """A stop rule (run in the model process) that raises on its n-th call."""

    n: int
    calls: int = 0

    def __call__(self, text: str) -> int | None:
        self.calls += 1
        if self.calls == self.n:
            raise RuntimeError(f"boom in the middle of generation, at token {self.n}")
        return None


@dataclass(frozen=True)
class MarkWhenGenerating:
    """A stop rule that creates ``path`` at the first generated token (the test, in
    another process, sees the model producing tokens)."""

    path: str

    def __call__(self, text: str) -> int | None:
        Path(self.path).touch()
        return None


async def test_the_worker_raising_mid_generation_does_not_break_the_next_request(
    tiny_model: Path,
):
    eng = engine(tiny_model)
    try:
        backend = await eng.host.backend()
        request = GenerationRequest(
            prompt=backend.tokenize("def f():\n"), max_tokens=20, stop=ExplodeOnCall(3)
        )
        with pytest.raises(ModelError, match="boom in the middle of generation, at token 3"):
            await eng.host.generate(request)  # it really was mid-generation
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


async def wait_for_file(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, "the model never started generating"
        await asyncio.sleep(0.005)


async def test_cancelling_stops_generation_between_tokens(tiny_model: Path, tmp_path: Path):
    eng = engine(tiny_model, contextLength=8192)
    try:
        backend = await eng.host.backend()
        prompt = backend.tokenize(PYTHON)
        generating = tmp_path / "generating"

        request = GenerationRequest(
            prompt=prompt, max_tokens=8000, stop=MarkWhenGenerating(str(generating))
        )
        task = asyncio.create_task(eng.host.generate(request))
        await wait_for_file(generating)  # the model is producing tokens now
        request.cancel.set()  # what a superseding request does
        result = await asyncio.wait_for(task, timeout=10)
        assert result.stop_reason == "cancelled"
        assert 0 < result.completion_tokens < 8000

        # $/cancelRequest cancels the asyncio task: the worker stops and is free again
        generating.unlink()
        request = GenerationRequest(
            prompt=prompt, max_tokens=8000, stop=MarkWhenGenerating(str(generating))
        )
        task = asyncio.create_task(eng.host.generate(request))
        await wait_for_file(generating)
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
