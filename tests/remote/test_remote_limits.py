"""A remote server that never ends, ignores max_tokens or stalls: every answer is capped
in bytes, tokens and time, fails fast with a message naming the endpoint and the cap,
and the next request is served."""

from __future__ import annotations

import resource
import time
from typing import Any

import pytest

from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.model.backend import GenerationRequest, ModelError
from tests.lsp.sample_files import PYTHON
from tests.remote.misbehaving import MisbehavingServer

PY_URI = "file:///work/project/files.py"
FAIL_WITHIN_S = 5.0
MEMORY_GROWTH_MB = 150


def engine_for(url: str, **extra: Any) -> Engine:
    raw = {"backend": url, "maxTokens": 8, "actionMaxTokens": 32, "requestTimeoutMs": 1000}
    result = parse_settings({**raw, **extra})
    assert result.problems == []
    return Engine(result.settings, allow_download=False)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def complete(engine: Engine) -> Any:
    return await engine.complete(PY_URI, PYTHON, Pos(6, 8), "python")


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("endless-models", "sent an answer over 8 MiB on /v1/models"),
        ("dribbled-models", "did not finish its answer on /v1/models within 2 s"),
        ("endless-500", 'HTTP 500 to /v1/completions: {"error": {"message": "out of memory'),
        ("endless-500", " (the body went on past 64 KiB: edgewise read no more)"),
        ("endless-line", "sent a line over 1 MiB on /v1/completions"),
        ("endless-stream", "sent a stream over 16 MiB on /v1/completions"),
    ],
)
async def test_an_endless_answer_fails_within_seconds_and_the_next_is_served(
    mode: str, message: str
):
    with MisbehavingServer(mode) as server:
        engine = engine_for(server.url)
        try:
            before = peak_rss_mb()
            started = time.monotonic()
            with pytest.raises(ModelError) as failure:
                await complete(engine)
            assert time.monotonic() - started < FAIL_WITHIN_S
            assert peak_rss_mb() - before < MEMORY_GROWTH_MB
            assert message in str(failure.value)
            assert f"the server at {server.url}" in str(failure.value)
            server.mode = "ok"
            completion = await complete(engine)
            assert completion.text == "ok" * 4
        finally:
            engine.close()


@pytest.mark.parametrize("mode", ["ignores-max-tokens", "one-huge-chunk"])
async def test_a_reply_past_max_tokens_is_cut_there(mode: str):
    with MisbehavingServer(mode) as server:
        engine = engine_for(server.url)
        try:
            backend = await engine.host.backend()
            messages = [{"role": "user", "content": "Write a docstring"}]
            started = time.monotonic()
            # the backend itself: the host's repeat guard would stop the loop of
            # ignores-max-tokens at once (tests/remote/test_repeat_guard.py)
            result = await backend.agenerate(  # type: ignore[attr-defined]
                GenerationRequest(prompt=[1, 2], max_tokens=256, messages=messages)
            )
            assert time.monotonic() - started < FAIL_WITHIN_S
            assert result.stop_reason == "max_tokens"
            if mode == "ignores-max-tokens":  # one token a chunk: exactly 256 of them
                assert result.text == "more();\n" * 256
            else:  # one chunk of 20,000 lines: cut at 32 characters a token
                assert len(result.text) == 256 * 32 and result.text.startswith("x = 1\n")
            assert backend.info().backend == "remote:llama.cpp"
        finally:
            engine.close()


async def test_an_action_the_server_never_answers_fails_at_its_time_cap():
    # requestTimeoutMs 1 s + 0.2 s for each of 8 tokens: 2.6 s, though pings keep the
    # connection busy (the gap timeout never fires)
    with MisbehavingServer("pings-forever") as server:
        engine = engine_for(server.url, actionMaxTokens=8)
        try:
            started = time.monotonic()
            with pytest.raises(ModelError) as failure:
                await engine.run_action("docstring", PY_URI, PYTHON, Pos(4, 6), Pos(4, 6), "python")
            waited = time.monotonic() - started
            assert 2.6 <= waited < 2.6 + 2.0
            assert "sent no token within 2.6 s (setting 'requestTimeoutMs'" in str(failure.value)
            server.mode = "ok"
            result = await engine.run_action(
                "docstring", PY_URI, PYTHON, Pos(4, 6), Pos(4, 6), "python"
            )
            assert result.report["tokens"]["completion"] >= 1
        finally:
            engine.close()


async def test_odd_token_ids_are_a_clear_error_and_the_next_request_is_served():
    with MisbehavingServer("odd-tokens") as server:
        engine = engine_for(server.url)
        try:
            with pytest.raises(ModelError) as failure:
                await complete(engine)
            assert f"the server at {server.url} answered /tokenize oddly" in str(failure.value)
            server.mode = "ok"
            assert (await complete(engine)).text == "ok" * 4
        finally:
            engine.close()
