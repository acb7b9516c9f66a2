"""Random incremental edits over stdio: the server's text and syntax tree always equal
the client's text and a fresh parse of it (multi-byte characters, surrogate pairs, CRLF,
form feeds, edits at the end, empty documents)."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import tree_sitter_python
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Language, Parser

from tests.robustness.stdio_client import RawClient

PY = Parser(Language(tree_sitter_python.language()))
ALPHABET = st.sampled_from(
    list("abc xyz_():=\n\t#'\"[]{}0123456789") + ["\r\n", "\r", "é", "ß", "中", "😀", "𝔘", "\x0c"]
)
TEXT = st.lists(ALPHABET, max_size=30).map("".join)


def client_lines(text: str) -> list[str]:
    """The client's own line split (LSP: only \\n, \\r\\n, \\r end a line)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def position(text: str, offset: int) -> dict[str, int]:
    line = 0
    start = 0
    for piece in client_lines(text):
        if start + len(piece) > offset or (
            start + len(piece) == offset and not piece.endswith(("\n", "\r"))
        ):
            break
        start += len(piece)
        line += 1
    column = text[start:offset]
    return {"line": line, "character": len(column.encode("utf-16-le")) // 2}


def whole(text: str, offset: int) -> int:
    """The offset moved off the middle of a "\r\n" (no LSP position points there: a
    column past the content is clamped to the content's end)."""
    return offset - 1 if text[offset - 1 : offset + 1] == "\r\n" else offset


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawClient]:
    from tests.tiny_gguf import write_tiny_gguf

    model = write_tiny_gguf(tmp_path_factory.mktemp("m") / "tiny.gguf")
    client = RawClient()
    client.initialize({"model": str(model), "debounceMs": 0, "minConfidence": 0})
    yield client
    client.close()


COUNTER = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    initial=TEXT,
    edits=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), TEXT), min_size=1, max_size=12),
    per_message=st.integers(1, 3),
)
def test_incremental_edits_never_desynchronise(
    server: RawClient, initial: str, edits: list, per_message: int
) -> None:
    """Up to three changes in one didChange, each in the text the previous one left."""
    uri = f"file:///work/project/sync_{next(COUNTER)}.py"
    server.open(uri, initial)
    text = initial
    changes = []
    for a, b, insert in edits:
        start, end = sorted(whole(text, round(x * len(text))) for x in (a, b))
        changes.append(
            {"range": {"start": position(text, start), "end": position(text, end)}, "text": insert}
        )
        text = text[:start] + insert + text[end:]
    for version, first in enumerate(range(0, len(changes), per_message), start=2):
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": changes[first : first + per_message],
            },
        )
    state = server.call(
        "workspace/executeCommand", {"command": "edgewise.documentState", "arguments": [uri]}
    )["result"]
    expected = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    assert state["sha256"] == expected, "the server's text drifted from the client's"
    assert state["parsed_sha256"] == expected, "the parsed text drifted"
    assert state["tree"] == str(PY.parse(text.encode("utf-8")).root_node)
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_position_helper_agrees_on_a_known_case() -> None:
    text = "a😀b\r\nc\x0cd\re"
    assert position(text, 2) == {"line": 0, "character": 3}  # after the surrogate pair
    assert position(text, 3) == {"line": 0, "character": 4}
    assert position(text, len("a😀b\r\n")) == {"line": 1, "character": 0}
    assert position(text, len(text)) == {"line": 2, "character": 1}
    assert Path(__file__).exists()
