"""Nothing leaves the machine with the embedded backend, and logs hold no file contents."""

from __future__ import annotations

import os
from pathlib import Path

from tests.lsp.sample_files import PYTHON
from tests.robustness.stdio_client import RawClient

URI = "file:///work/project/files.py"
SECRET = "sk-test-7f3a9c-DO-NOT-LOG"


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def inet_inodes() -> set[str]:
    """Inodes of every TCP/UDP socket on the machine (IPv4 and IPv6)."""
    found = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9:
                found.add(fields[9])
    return found


def exercise(client: RawClient, text: str) -> None:
    client.open(URI, text)
    reply = client.call(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": URI},
            "position": {"line": 6, "character": 8},
            "context": {"triggerKind": 1},
        },
    )
    assert reply["result"]["items"]
    actions = client.call(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": URI},
            "range": {"start": {"line": 4, "character": 6}, "end": {"line": 4, "character": 6}},
            "context": {"diagnostics": []},
        },
    )["result"]
    # a client without CodeAction literals gets a Command that runs the action
    assert actions[0]["command"] == "edgewise.applyAction"
    applied = client.call("workspace/executeCommand", actions[0], timeout=60)
    assert applied["result"] is True
    edits = [r for r in client.server_requests if r["method"] == "workspace/applyEdit"]
    assert edits and URI in str(edits[-1]["params"]["edit"])


def test_embedded_backend_opens_no_network_socket(tiny_model: Path):
    client = RawClient()
    try:
        client.initialize({"model": str(tiny_model), "debounceMs": 0, "maxTokens": 8})
        exercise(client, PYTHON)
        mine = socket_inodes(client.proc.pid)
        assert not (mine & inet_inodes()), "the server holds a TCP/UDP socket"
    finally:
        client.close()


def test_logs_hold_no_file_contents_unless_debug(tiny_model: Path, tmp_path: Path):
    text = PYTHON.replace("names = []", f"names = []  # {SECRET}")
    quiet_log = tmp_path / "quiet.log"
    client = RawClient(stderr_path=str(quiet_log))
    try:
        client.initialize({"model": str(tiny_model), "debounceMs": 0, "maxTokens": 8})
        exercise(client, text)
        client.call("edgewise/noSuchMethod", {"payload": SECRET})
    finally:
        client.close()
    assert SECRET not in quiet_log.read_text(errors="replace")

    import tests.robustness.stdio_client as stdio

    debug_log = tmp_path / "debug.log"
    saved = stdio.SERVE
    stdio.SERVE = [*saved, "--debug"]
    try:
        client = RawClient(stderr_path=str(debug_log))
        client.initialize({"model": str(tiny_model), "debounceMs": 0, "maxTokens": 8})
        exercise(client, text)
    finally:
        stdio.SERVE = saved
        client.close()
    assert SECRET in debug_log.read_text(errors="replace")  # debug logging is opt-in
