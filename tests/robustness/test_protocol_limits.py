"""Frames that used to kill or silence the server: nesting too deep to decode, numbers
JSON cannot carry, a lifecycle out of order. Each is answered, and service goes on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from edgewise.lsp.nesting import MAX_DEPTH, deeper_than, top_level_members
from edgewise.lsp.transport import strict_json
from edgewise.model import remote
from tests.lsp.sample_files import PYTHON
from tests.robustness.stdio_client import RawClient
from tests.robustness.test_protocol_abuse import URI, assert_alive, options


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def nested(depth: int) -> dict:
    data: dict = {"leaf": 1}
    for _ in range(depth):
        data = {"x": data}
    return data


def test_a_frame_nested_a_thousand_deep_before_initialize_is_answered(tiny_model: Path):
    raw = RawClient()
    try:
        deep = b"[" * 1000 + b"]" * 1000
        body = b'{"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": ' + deep + b"}"
        raw.send_bytes(frame(body))
        assert raw.response_to(7, timeout=20)["error"]["code"] == -32602
        # the id after the deep part, and no id to be found at all
        raw.send_bytes(
            frame(b'{"jsonrpc": "2.0", "method": "x", "params": ' + deep + b', "id": 8}')
        )
        assert raw.response_to(8, timeout=20)["error"]["code"] == -32602
        raw.send_bytes(frame(deep))
        assert raw.response_to(None, timeout=20)["error"]["code"] == -32600
        raw.initialize(options(tiny_model))  # still the first initialize: accepted
        raw.open(URI, PYTHON)
        assert_alive(raw)
        assert raw.proc.poll() is None
    finally:
        raw.close()


@pytest.fixture
def client(tiny_model: Path):
    raw = RawClient()
    raw.initialize(options(tiny_model))
    raw.open(URI, PYTHON)
    yield raw
    raw.close()


def test_a_resolve_whose_data_nests_400_deep_is_answered(client: RawClient):
    reply = client.call("codeAction/resolve", {"title": "t", "data": nested(400)}, timeout=20)
    assert reply["error"]["code"] == -32602
    # as deep as allowed: resolved (and its data sent back) like any other
    reply = client.call(
        "codeAction/resolve", {"title": "t", "data": nested(MAX_DEPTH - 5)}, timeout=20
    )
    assert "result" in reply, reply
    assert_alive(client)


def test_depth_counts_arrays_and_objects_and_unreadable_frames_keep_their_id() -> None:
    assert not deeper_than({"text": "[" * 5000})
    assert not deeper_than(nested(MAX_DEPTH - 1))
    assert deeper_than(nested(MAX_DEPTH))
    assert deeper_than([1, {"a": [nested(MAX_DEPTH)]}])
    members = top_level_members(b'{"jsonrpc": "2.0", "id": "a\\"b", "method": "m", "params": [[]]}')
    assert members == {"jsonrpc": "2.0", "id": 'a"b', "method": "m"}


def test_huge_prices_are_refused_by_the_schema_and_every_frame_is_json(tiny_model: Path):
    raw = RawClient()
    try:
        huge = {"deviceWatts": 1e308, "pricePerKwh": 1e308}
        raw.initialize({**options(tiny_model), "pricing": huge, "remotePricing": huge})
        raw.open(URI, PYTHON)
        assert_alive(raw)  # a completion: a status notification with its costs
        cost = raw.call("workspace/executeCommand", {"command": "edgewise.costReport"})
        assert "result" in cost, cost
        warnings = [
            n["params"]["message"]
            for n in raw.notifications
            if n["method"] == "window/showMessage" and n["params"]["type"] == 2
        ]
        for key in ("pricing.deviceWatts", "pricing.pricePerKwh", "remotePricing.deviceWatts"):
            assert any(key in message for message in warnings), (key, warnings)
        statuses = [n for n in raw.notifications if n["method"] == "edgewise/status"]
        assert statuses
        assert raw.non_json == []
        session = cost["result"]["session"]
        assert all(math.isfinite(v) for v in session.values() if isinstance(v, float)), session
    finally:
        raw.close()


def test_non_finite_numbers_are_written_as_null() -> None:
    body = strict_json({"a": [1.5, float("inf"), float("nan")], "b": -float("inf")})
    assert json.loads(body, parse_constant=lambda c: pytest.fail(c)) == {
        "a": [1.5, None, None],
        "b": None,
    }


def test_a_backends_absurd_timings_and_counts_are_not_believed() -> None:
    for value in (1e308, float("inf"), float("nan"), -1.0, True):
        assert remote._float(value) is None, value
    assert remote._float(12.5) == 12.5
    assert remote._first(10**400, 12) == 12


def test_a_second_initialize_is_refused_and_exit_without_shutdown_is_1(client: RawClient):
    reply = client.call(
        "initialize", {"processId": None, "rootUri": None, "capabilities": {}}, timeout=20
    )
    assert reply["error"]["code"] == -32600
    assert_alive(client)
    client.notify("exit")
    assert client.proc.wait(timeout=15) == 1


def test_nan_and_infinity_from_the_client_are_parse_errors(client: RawClient):
    settings = b'{"edgewise": {"pricing": {"deviceWatts": NaN, "pricePerKwh": Infinity}}}'
    body = b'{"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {'
    client.send_bytes(frame(body + b'"settings": ' + settings + b"}}"))
    assert client.response_to(None, timeout=20)["error"]["code"] == -32700
    assert_alive(client)
    assert client.non_json == []
