"""The stop check over a streamed answer: the same stop as a check after every chunk, in
linear time (a long answer no longer costs the square of its length)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from edgewise.actions.codeblock import fence_stop
from edgewise.config import parse_settings
from edgewise.engine import Engine
from edgewise.model.backend import GenerationRequest, StopCheck
from edgewise.model.stop_scan import StopScan
from edgewise.pipeline.postprocess import completion_stop, marker_stop
from tests.remote.misbehaving import MisbehavingServer

ALPHABET = ["a", "b", " ", "    ", "\n", "\n\n\n", "(", ")", "{", "}", "```", "<END>", "x = 1"]


def every_chunk(check: StopCheck, chunks: list[str]) -> int | None:
    """What the check gave when run after every chunk (the old way)."""
    text = ""
    for chunk in chunks:
        text += chunk
        if text:
            keep = check(text)
            if keep is not None:
                return keep
    return None


def scanned(check: StopCheck, chunks: list[str]) -> int | None:
    scan = StopScan(check)
    text = ""
    for chunk in chunks:
        text += chunk
        if text:
            keep = scan.feed(text)
            if keep is not None:
                return keep
    return scan.flush(text)


def test_the_scan_stops_where_a_check_after_every_chunk_stops():
    rng = random.Random(7)
    checks: list[Callable[[], StopCheck]] = [
        lambda: completion_stop("    return ", False),
        lambda: completion_stop("    if x:", True),
        lambda: completion_stop("def f(", True),
        fence_stop,
        lambda: marker_stop(("<END>",)),
    ]
    for trial in range(60):
        # mostly long answers, so that the lazy part is exercised
        pieces = [rng.choice(ALPHABET) for _ in range(rng.choice([5, 200, 1500]))]
        if trial % 3:  # a long run without any stop before the end
            pieces = ["a" * rng.randint(1, 50) for _ in range(300)] + pieces
        chunks = ["".join(pieces[i : i + rng.randint(1, 4)]) for i in range(0, len(pieces), 4)]
        for make in checks:
            assert scanned(make(), chunks) == every_chunk(make(), chunks), (trial, make)


def test_a_long_answer_is_checked_in_linear_time():
    looked_at = [0]

    def check(text: str) -> int | None:  # stops at the 3000th line break
        looked_at[0] += len(text)
        found = -1
        for _ in range(3000):
            found = text.find("\n", found + 1)
            if found < 0:
                return None
        return found

    chunks = ["more();\n"] * 4000
    assert scanned(check, chunks) == 3000 * 8 - 1
    scan_cost, looked_at[0] = looked_at[0], 0
    assert every_chunk(check, chunks) == 3000 * 8 - 1
    assert scan_cost * 10 < looked_at[0]
    assert scan_cost < 3_000_000


async def test_a_remote_answer_stops_where_the_check_says_within_its_limits():
    with MisbehavingServer("ignores-max-tokens") as server:
        result = parse_settings({"backend": server.url, "requestTimeoutMs": 5000})
        engine = Engine(result.settings, allow_download=False)
        try:
            messages = [{"role": "user", "content": "Write a docstring"}]
            started = time.monotonic()
            # the backend itself: the host's repeat guard would stop this loop at once
            backend = await engine.host.backend()
            answer = await backend.agenerate(  # type: ignore[attr-defined]
                GenerationRequest(
                    prompt=[1],
                    max_tokens=4000,
                    messages=messages,
                    stop=lambda text: 2000 * 8 - 1 if text.count("\n") >= 2000 else None,
                )
            )
            assert answer.stop_reason == "stop"
            assert answer.text == "more();\n" * 1999 + "more();"
            assert time.monotonic() - started < 10
        finally:
            engine.close()
