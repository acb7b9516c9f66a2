"""The remote backend against a real llama-cpp-python server: exact prompts, the server's
own log-probabilities, cancellation, parallel requests, and the API key kept secret."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.model.backend import GenerationRequest
from tests.lsp.sample_files import PYTHON
from tests.remote.conftest import LlamaServer

PY_URI = "file:///work/project/files.py"


def engine_for(url: str, **extra: Any) -> Engine:
    result = parse_settings({"backend": url, "maxTokens": 8, "actionMaxTokens": 8, **extra})
    assert result.problems == []
    return Engine(result.settings, allow_download=False)


def server_count(url: str, prompt: str) -> int:
    """How many tokens the server itself makes of a text prompt (non-streamed usage)."""
    answer = httpx.post(f"{url}/v1/completions", json={"prompt": prompt, "max_tokens": 1})
    answer.raise_for_status()
    return int(answer.json()["usage"]["prompt_tokens"])


@pytest.mark.parametrize("tokenizer", ["server", "local-vocab"])
async def test_fim_prompt_reaches_the_server_token_for_token(
    shared_server: LlamaServer, tiny_model: Path, tokenizer: str
):
    extra = {"remoteTokenizer": str(tiny_model)} if tokenizer == "local-vocab" else {}
    engine = engine_for(shared_server.url, **extra)
    try:
        completion = await engine.complete(PY_URI, PYTHON, Pos(6, 8), "python")
        sent = engine.last_prompt
        assert sent is not None and sent["format"] == "fim"
        # the FIM markers went as text: the server parsed each back into one special
        # token, so its count equals edgewise's exact budget count
        assert "<|fim_prefix|>" in sent["text"]
        assert server_count(shared_server.url, sent["text"]) == sent["prompt_tokens"]
        assert completion.report["tokens"]["prompt"] == sent["prompt_tokens"]
        assert completion.report["model"]["backend"] == "remote:llama-cpp-python"
    finally:
        engine.close()


async def test_confidence_is_the_servers_own_token_probabilities(shared_server: LlamaServer):
    engine = engine_for(shared_server.url)
    try:
        backend = await engine.host.backend()
        prompt = "<|fim_prefix|>def add(a, b):\n<|fim_suffix|>\n<|fim_middle|>    return"
        tokens = backend.tokenize(prompt, special=True)
        result = await engine.host.generate(
            GenerationRequest(prompt=tokens, max_tokens=8, text=prompt)
        )
        # the same request, not streamed, straight to the server
        answer = httpx.post(
            f"{shared_server.url}/v1/completions",
            json={
                "prompt": prompt,
                "max_tokens": 8,
                "temperature": 0,
                "seed": 42,
                "logprobs": 2,
                "top_k": 0,
                "top_p": 1.0,
                "min_p": 0.0,
                "repeat_penalty": 1.0,
            },
        ).json()
        choice = answer["choices"][0]
        assert result.text == choice["text"]
        expected = [math.exp(v) for v in choice["logprobs"]["token_logprobs"]]
        assert len(result.probs) == len(expected) == result.completion_tokens == 8
        assert result.probs == pytest.approx(expected, rel=1e-4)
        first_top = sorted(
            (math.exp(v) for v in choice["logprobs"]["top_logprobs"][0].values()), reverse=True
        )
        assert result.first_margin == pytest.approx(first_top[0] - first_top[1], rel=1e-4)
        assert result.source == "measured"  # this server's streams carry no usage
        assert result.stop_reason == "max_tokens"
        # the blocking form (for callers without an event loop) gives the same answer
        blocking = await asyncio.to_thread(
            backend.generate, GenerationRequest(prompt=tokens, max_tokens=8, text=prompt)
        )
        assert blocking.text == result.text
        assert blocking.probs == pytest.approx(result.probs, rel=1e-4)
    finally:
        engine.close()


async def test_cancel_closes_the_stream_and_the_server_stops_generating(
    shared_server: LlamaServer,
):
    engine = engine_for(shared_server.url)
    try:
        backend = await engine.host.backend()
        # greedy, the tiny model (seed 0) goes on for over 1000 tokens after "self"
        prompt = "self"
        tokens = backend.tokenize(prompt, special=True)
        started = time.monotonic()
        lone = await engine.host.generate(
            GenerationRequest(prompt=tokens, max_tokens=1500, text=prompt)
        )
        full_s = time.monotonic() - started
        assert lone.completion_tokens >= 1000, lone.stop_reason

        long = GenerationRequest(prompt=tokens, max_tokens=1500, text=prompt)
        job = asyncio.create_task(engine.host.generate(long))
        await asyncio.sleep(full_s / 5)
        long.cancel.set()
        result = await asyncio.wait_for(job, timeout=5)
        assert result.stop_reason == "cancelled"
        assert 0 < result.completion_tokens < lone.completion_tokens
        # the server is free at once: a short request does not wait for the 1500 tokens
        started = time.monotonic()
        short = await engine.host.generate(GenerationRequest(prompt=tokens, max_tokens=4))
        assert short.completion_tokens >= 1
        assert time.monotonic() - started < full_s / 2
    finally:
        engine.close()


@pytest.mark.parametrize("limit", [1, 2])
async def test_requests_beyond_max_parallel_wait_their_turn(shared_server: LlamaServer, limit: int):
    engine = engine_for(shared_server.url, maxParallelRequests=limit)
    try:
        backend = await engine.host.backend()
        prompt = "<|fim_prefix|>y<|fim_suffix|>\n<|fim_middle|>"
        tokens = backend.tokenize(prompt, special=True)
        jobs = [
            engine.host.generate(GenerationRequest(prompt=tokens, max_tokens=200, text=prompt))
            for _ in range(2)
        ]
        results = await asyncio.gather(*jobs)
        waited = sorted(r.queue_ms for r in results)
        if limit == 1:  # the second waited for edgewise's only slot
            assert waited[0] < 50 and waited[1] > 0.5 * min(r.total_ms for r in results)
        else:  # both were sent at once (the server itself then runs them in turn)
            assert waited[1] < 50
    finally:
        engine.close()


async def test_api_key_goes_to_the_server_and_nowhere_else(
    start_server: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    secret = "sk-edgewise-test-4c0ffee5ecret"
    server = start_server("--api_key", secret)
    monkeypatch.setenv("EDGEWISE_TEST_KEY", secret)
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    engine = engine_for(server.url, apiKeyEnv="EDGEWISE_TEST_KEY")
    try:
        completion = await engine.complete(PY_URI, PYTHON, Pos(6, 8), "python")
        assert completion.report["tokens"]["completion"] >= 1  # the server took the key
        action = await engine.run_action(
            "docstring", PY_URI, PYTHON, Pos(4, 6), Pos(4, 6), "python"
        )
        for where in (completion.report, action.report, engine.last_prompt):
            assert secret not in json.dumps(where)
        assert secret not in caplog.text
    finally:
        engine.close()

    monkeypatch.setenv("EDGEWISE_TEST_KEY", "sk-wrong-key")
    engine = engine_for(server.url, apiKeyEnv="EDGEWISE_TEST_KEY")
    try:
        with pytest.raises(Exception) as failure:
            await engine.complete(PY_URI, PYTHON, Pos(6, 8), "python")
        assert "refused the API key (HTTP 401)" in str(failure.value)
        assert "sk-wrong-key" not in str(failure.value) and secret not in caplog.text
    finally:
        engine.close()
