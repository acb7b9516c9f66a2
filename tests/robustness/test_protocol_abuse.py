"""Protocol abuse over stdio: every broken message gets the JSON-RPC answer the spec
asks for (or is ignored where the spec allows), and the next valid request is answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lsp.sample_files import PYTHON
from tests.robustness.stdio_client import RawClient

URI = "file:///work/project/files.py"


def options(model: Path) -> dict:
    return {"model": str(model), "debounceMs": 0, "maxTokens": 8, "contextLength": 1024}


def inline(client: RawClient, line: int = 6, character: int = 8, uri: str = URI) -> dict:
    return client.call(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},
        },
    )


@pytest.fixture
def client(tiny_model: Path) -> Iterator[RawClient]:
    raw = RawClient()
    raw.initialize(options(tiny_model))
    raw.open(URI, PYTHON)
    yield raw
    raw.close()


def assert_alive(client: RawClient) -> None:
    reply = inline(client)
    assert "result" in reply and reply["result"]["items"], reply


def test_invalid_json_gets_a_parse_error_then_service_goes_on(client: RawClient):
    body = b'{"jsonrpc": "2.0", "id": 99, "method": '
    client.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    reply = client.response_to(None)
    assert reply["error"]["code"] == -32700
    assert_alive(client)


@pytest.mark.parametrize("delta", [-7, +9])
def test_wrong_content_length_resyncs_on_the_next_frame(client: RawClient, delta: int):
    body = b'{"jsonrpc": "2.0", "id": 77, "method": "edgewise/nothing", "params": {}}'
    client.send_bytes(b"Content-Length: %d\r\n\r\n" % (len(body) + delta) + body)
    if delta < 0:
        assert client.response_to(None)["error"]["code"] == -32700
        assert_alive(client)
    else:
        # the frame swallows the start of the next one; that next request is re-read
        msg_id = client.request("edgewise/unknownMethod", {})
        assert client.response_to(None)["error"]["code"] == -32700
        assert client.response_to(msg_id)["error"]["code"] == -32601
        assert_alive(client)


def test_unknown_method_and_notification(client: RawClient):
    assert client.call("edgewise/noSuchMethod", {})["error"]["code"] == -32601
    client.notify("$/noSuchNotification", {})
    client.notify("custom/whatever", {"x": 1})
    assert_alive(client)


def test_wrong_param_types_get_invalid_params(client: RawClient):
    reply = client.call(
        "textDocument/inlineCompletion",
        {"textDocument": {"uri": URI}, "position": {"line": "six", "character": []}},
    )
    assert reply["error"]["code"] == -32602
    reply = client.call("textDocument/codeAction", {"textDocument": 5})
    assert reply["error"]["code"] == -32602
    assert_alive(client)


def test_positions_out_of_range_and_unknown_documents_are_answered(client: RawClient):
    for line, character in [(6, 500), (5000, 3), (0, 0), (20, 0)]:
        reply = inline(client, line, character)
        assert "result" in reply, (line, character, reply)
    reply = inline(client, uri="file:///work/project/never-opened.py")
    assert reply["result"]["items"] == []
    reply = inline(client, uri="not a uri at all")
    assert "result" in reply
    assert_alive(client)


def test_requests_before_initialize_and_after_shutdown(tiny_model: Path):
    raw = RawClient()
    try:
        reply = raw.call("textDocument/codeAction", {})
        assert reply["error"]["code"] == -32002
        raw.initialize(options(tiny_model))
        raw.open(URI, PYTHON)
        assert_alive(raw)
        assert raw.call("shutdown")["result"] is None
        reply = inline(raw)
        assert reply["error"]["code"] == -32600
        raw.notify("exit")
        assert raw.proc.wait(timeout=15) == 0
    finally:
        raw.close()


def test_a_twenty_megabyte_document(client: RawClient):
    line = "value = compute(alpha, beta, gamma)  # " + "x" * 60 + "\n"
    big = "def main():\n" + ("    " + line) * (20 * 1024 * 1024 // (len(line) + 4))
    assert len(big) > 20_000_000
    big_uri = "file:///work/project/big.py"
    client.open(big_uri, big)
    reply = inline(client, line=100_000, character=4, uri=big_uri)
    assert "result" in reply
    assert_alive(client)


def test_a_thousand_requests_cancelled_as_they_arrive(client: RawClient):
    ids = []
    for _ in range(1000):
        msg_id = client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": URI},
                "position": {"line": 6, "character": 8},
                "context": {"triggerKind": 1},
            },
        )
        client.notify("$/cancelRequest", {"id": msg_id})
        ids.append(msg_id)
    answered = {}
    while len(answered) < len(ids):
        reply = client.next_response(timeout=120)
        answered[reply["id"]] = reply
    for reply in answered.values():
        assert "result" in reply or reply["error"]["code"] == -32800, reply
    assert_alive(client)
