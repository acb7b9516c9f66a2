"""`edgewise replay` through remote servers: llama-cpp-python's server takes the seed and
replays identically; a hosted-style server that ignores seeds is flagged in the report
as not reproducible, and its replay says so and shows the difference."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from tests.lsp.sample_files import PYTHON
from tests.remote.conftest import LlamaServer
from tests.remote.loopback import LoopbackServer
from tests.remote.misbehaving import BUILD_INFO, MisbehavingServer

PY_URI = "file:///work/project/files.py"


class SeedlessServer(LoopbackServer):
    """A hosted OpenAI-style API: no tokenizer endpoints, no /props, and a different
    answer to every request whatever the seed (as a batched cloud model may give)."""

    def __init__(self) -> None:
        self.requests = 0
        self.seeds: list[Any] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/v1/models":
                    self._json(200, {"data": [{"id": "hosted", "owned_by": "cloud"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if self.path not in ("/v1/completions", "/v1/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                owner.requests += 1
                owner.seeds.append(body.get("seed"))
                text = f"value_{owner.requests}"
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.close_connection = True
                chat = self.path.endswith("chat/completions")
                choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
                choice["delta" if chat else "text"] = {"content": text} if chat else text
                self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        super().__init__(Handler)


def complete_remote(raw: dict[str, Any]) -> dict[str, Any]:
    result = parse_settings({"maxTokens": 8, "keepPrompts": True, **raw})
    assert result.problems == []
    engine = Engine(result.settings, allow_download=False)
    try:
        done = asyncio.run(engine.complete(PY_URI, PYTHON, Pos(6, 8), "python"))
    finally:
        engine.close()
    return done.report


def replay(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDGEWISE_STATE_DIR": str(state)}
    command = [sys.executable, "-m", "edgewise.cli", "replay", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("EDGEWISE_STATE_DIR", str(folder))
    return folder


def test_a_server_that_takes_seeds_replays_identically(shared_server: LlamaServer, state: Path):
    report = complete_remote({"backend": shared_server.url})
    facts = report["reproduce"]
    assert facts["backend"] == "remote:llama-cpp-python" and facts["reproducible"] is True
    assert facts["threads"] is None  # the server's own business
    done = replay(state, report["id"], "--backend", shared_server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical: the same" in done.stdout
    # without the server's address there is nothing to replay against
    done = replay(state, report["id"])
    assert done.returncode == 2
    assert "was made by a remote server" in done.stderr and "--backend URL" in done.stderr


def test_a_server_that_ignores_seeds_is_flagged(tiny_model: Path, state: Path, tmp_path: Path):
    settings = tmp_path / "settings.json"
    with SeedlessServer() as server:
        raw = {"backend": server.url, "remoteTokenizer": str(tiny_model)}
        settings.write_text(json.dumps(raw))
        report = complete_remote(raw)
        facts = report["reproduce"]
        assert facts["backend"] == "remote:openai"
        assert facts["reproducible"] is False
        assert facts["note"] == "the server (remote:openai) does not promise to honour seeds"
        assert server.seeds == [report["seed"]]  # the seed was sent; the server ignored it
        done = replay(state, report["id"], "--settings", str(settings), "--json")
        assert done.returncode == 1, done.stderr
        out = json.loads(done.stdout)
        assert out["verdict"] == "different" and out["reproducible"] is False
        assert (out["text"]["then"], out["text"]["now"]) == ("value_1", "value_2")
        text = replay(state, report["id"], "--settings", str(settings))
        assert "DIFFERENT" in text.stdout
        assert "not reproducible by design: the server (remote:openai) does not promise" in (
            text.stdout
        )


def test_a_llama_cpp_servers_build_is_in_the_report(state: Path):
    with MisbehavingServer("ok") as server:
        report = complete_remote({"backend": server.url})
    facts = report["reproduce"]
    assert (facts["backend"], facts["backend_version"]) == ("remote:llama.cpp", BUILD_INFO)
    assert facts["reproducible"] is True
