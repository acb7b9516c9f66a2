"""A fuzzer over stdio: random nesting depths, number magnitudes, line endings and
positions past the ends of lines and of the document. After every edit the server's text
equals the client's (clamping as the LSP says), every request is answered, and every
frame the server writes is strict JSON (no NaN, no Infinity)."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgewise.lsp.nesting import MAX_DEPTH
from tests.robustness.stdio_client import RawClient

ALPHABET = st.sampled_from(list("ab (){}[]:=\n\t\"'") + ["\r\n", "\r", "é", "中", "😀", "\x0c"])
TEXT = st.lists(ALPHABET, max_size=20).map("".join)
BIG = 2**31 - 1
# an endpoint: a fraction of the text, or the end of a line (by fraction) plus an overflow
# of the column, or a line past the end of the document
OVERFLOW = st.sampled_from([1, 2, 7, BIG])
ENDPOINT = st.one_of(
    st.tuples(st.just("offset"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("line_end"), st.floats(0, 1), OVERFLOW),
    st.tuples(st.just("past_end"), st.floats(0, 1), OVERFLOW),
)
NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 0.0, 10**400, -(10**30), 2**63]),
    st.integers(),
)
COUNTER = itertools.count()


def lines_of(text: str) -> list[str]:
    """The client's lines with their endings (the LSP's: \\n, \\r\\n, \\r); an empty last
    line after a final break."""
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+", text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


def units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def locate(text: str, kind: str, fraction: float, overflow: int) -> tuple[dict, int]:
    """An LSP position and the offset the spec says it means."""
    lines = lines_of(text)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line))
    if kind == "past_end":
        row = min(len(lines) - 1 + overflow, BIG)  # LSP's uinteger ends at 2^31 - 1
        return {"line": row, "character": overflow}, len(text)
    if kind == "line_end":
        row = min(int(fraction * len(lines)), len(lines) - 1)
        content = lines[row].rstrip("\r\n")
        character = min(units(content) + overflow, BIG)
        return {"line": row, "character": character}, starts[row] + len(content)
    offset = round(fraction * len(text))
    row = max(i for i, start in enumerate(starts) if start <= offset)
    content = lines[row].rstrip("\r\n")
    offset = min(offset, starts[row] + len(content))  # never inside a line break
    return {"line": row, "character": units(text[starts[row] : offset])}, offset


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def nested(depth: int) -> dict:
    data: dict = {"leaf": 1}
    for _ in range(depth):
        data = {"x": data}
    return data


@pytest.fixture(scope="module")
def server() -> Iterator[RawClient]:
    client = RawClient()
    client.initialize({"debounceMs": 0})
    yield client
    client.close()


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    initial=TEXT,
    edits=st.lists(st.tuples(ENDPOINT, ENDPOINT, TEXT), min_size=1, max_size=6),
    depth=st.integers(0, 3 * MAX_DEPTH),
    watts=NUMBER,
    price=NUMBER,
)
def test_fuzzed_frames_keep_the_server_in_sync_and_its_output_json(
    server: RawClient, initial: str, edits: list, depth: int, watts: object, price: object
) -> None:
    uri = f"file:///work/project/fuzz_{next(COUNTER)}.py"
    server.open(uri, initial)
    text = initial
    for version, (first, second, insert) in enumerate(edits, start=2):
        (a, a_offset), (b, b_offset) = locate(text, *first), locate(text, *second)
        if b_offset < a_offset:
            (a, a_offset), (b, b_offset) = (b, b_offset), (a, a_offset)
        text = text[:a_offset] + insert + text[b_offset:]
        change = {"range": {"start": a, "end": b}, "text": insert}
        server.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        state = server.call(
            "workspace/executeCommand",
            {"command": "edgewise.documentState", "arguments": [uri]},
        )
        assert state["result"]["sha256"] == sha(text), (change, text)
    # settings of any magnitude: refused or taken, and the costs stay JSON numbers
    pricing = {"deviceWatts": watts, "pricePerKwh": price}
    server.notify(
        "workspace/didChangeConfiguration",
        {"settings": {"edgewise": {"pricing": pricing, "remotePricing": pricing}}},
    )
    assert "result" in server.call("workspace/executeCommand", {"command": "edgewise.costReport"})
    # any nesting depth is answered, with its id
    reply = server.call("codeAction/resolve", {"title": "t", "data": nested(depth)}, timeout=20)
    assert "result" in reply or reply["error"]["code"] == -32602, str(reply)[:200]
    assert server.non_json == [], server.non_json[:1]
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
