"""Files that are not regular files never stop the server: a named pipe where the test
file goes, and messages naming a pipe or /dev/zero the client never opened. Each gets
an answer (or is ignored), and the next request is answered in time."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgewise import safe_read
from tests.robustness.stdio_client import RawClient

SOURCE = "def area(width, height):\n    return width * height\n"
ANSWER_S = 20.0  # a hung server never answers; a working one answers in well under this
CAPABILITIES = {
    "textDocument": {
        "codeAction": {
            "disabledSupport": True,
            "dataSupport": True,
            "resolveSupport": {"properties": ["edit"]},
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["", "quickfix", "refactor", "source"]}
            },
        }
    }
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "mod.py").write_text(SOURCE)
    os.mkfifo(root / "tests" / "test_mod.py")  # where the project's test of mod.py goes
    os.mkfifo(root / "pipe.py")
    return root


@pytest.fixture
def client(tiny_model: Path, workspace: Path, tmp_path: Path) -> Iterator[RawClient]:
    raw = RawClient(env={"EDGEWISE_STATE_DIR": str(tmp_path / "state")})
    options = {"model": str(tiny_model), "debounceMs": 0, "minConfidence": 0, "maxTokens": 4}
    raw.initialize(options, root=workspace.as_uri(), capabilities=CAPABILITIES)
    yield raw
    raw.close()


def assert_answers(client: RawClient, uri: str) -> None:
    started = time.monotonic()
    reply = client.call(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": uri},
            "position": {"line": 1, "character": 4},
            "context": {"triggerKind": 1},
        },
        timeout=ANSWER_S,
    )
    assert "result" in reply, reply
    assert time.monotonic() - started < ANSWER_S


def test_a_named_pipe_where_the_test_file_goes_is_refused_not_waited_on(
    client: RawClient, workspace: Path
):
    uri = (workspace / "mod.py").as_uri()
    client.open(uri, SOURCE)
    listed = client.call(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 5}, "end": {"line": 0, "character": 5}},
            "context": {"diagnostics": []},
        },
        timeout=ANSWER_S,
    )
    action = next(a for a in listed["result"] if a["title"].startswith("Generate a unit test"))
    resolved = client.call("codeAction/resolve", action, timeout=ANSWER_S)
    assert "cannot read the test file" in resolved["result"]["disabled"]["reason"]
    assert "edit" not in resolved["result"] or resolved["result"]["edit"] is None
    assert_answers(client, uri)


@pytest.mark.parametrize("target", ["pipe.py", "/dev/zero"])
def test_messages_naming_a_file_never_opened_read_nothing(
    client: RawClient, workspace: Path, target: str
):
    uri = (workspace / target).as_uri() if not target.startswith("/") else f"file://{target}"
    change = {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}}
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{**change, "text": "x"}]},
    )
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    data = {
        "action": "docstring",
        "uri": uri,
        "version": None,
        "range": {"start": {"line": 0, "character": 5}, "end": {"line": 0, "character": 5}},
    }
    resolved = client.call(
        "codeAction/resolve", {"title": "Add docstring", "data": data}, timeout=ANSWER_S
    )
    assert "result" in resolved or "error" in resolved
    opened = (workspace / "mod.py").as_uri()
    client.open(opened, SOURCE)
    assert_answers(client, opened)


def test_the_reader_takes_only_regular_files_up_to_the_limit(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    big = tmp_path / "big.py"
    big.write_bytes(b"x" * 101)
    link = tmp_path / "zero.py"
    link.symlink_to("/dev/zero")
    started = time.monotonic()
    for path, reason in (
        (fifo, "not a regular file"),
        (link, "not a regular file"),
        (tmp_path, "not a regular file"),
        (big, "larger than 100 bytes"),
    ):
        with pytest.raises(safe_read.NotReadable, match=reason):
            safe_read.read_bytes(path, limit=100)
    assert time.monotonic() - started < 1.0, "nothing waited for a writer"
    assert safe_read.read_text(big, limit=101) == "x" * 101
