"""A Hugging Face model reference is downloaded once into the cache and reused offline.

The hub is a small HTTP server on 127.0.0.1 that serves the tiny model the way the
Hugging Face resolve endpoint does (HEAD with commit/etag headers, then GET)."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Hub:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _headers(self) -> bytes | None:
                hub.requests.append(f"{self.command} {self.path}")
                data = hub.files.get(self.path)
                if data is None:
                    self.send_response(404)
                    self.end_headers()
                    return None
                digest = hashlib.sha256(data).hexdigest()
                self.send_response(200)
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{digest}"')
                self.send_header("X-Linked-Etag", f'"{digest}"')
                self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return data

            def do_HEAD(self) -> None:  # noqa: N802
                self._headers()

            def do_GET(self) -> None:  # noqa: N802
                data = self._headers()
                if data is not None:
                    self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub(tiny_model: Path) -> Iterator[Hub]:
    served = Hub({"/acme/tiny-coder/resolve/main/tiny-coder.gguf": tiny_model.read_bytes()})
    yield served
    served.stop()


def context(model: str, env: dict[str, str], source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgewise.cli", "context", str(source), "--line", "2",
         "--column", "1", "--budget", "64", "--model", model, "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )  # fmt: skip


def test_hf_reference_downloads_once_then_works_offline(hub: Hub, tmp_path: Path):
    source = tmp_path / "a.py"
    source.write_text("def f(x):\n    return x\n")
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "0"}
    first = context("acme/tiny-coder/tiny-coder.gguf", env, source)
    assert first.returncode == 0, first.stderr
    tokenizer = Path(json.loads(first.stdout)["tokenizer"])
    assert tokenizer.is_relative_to(tmp_path / "hf")  # it landed in the cache
    gets = [r for r in hub.requests if r.startswith("GET /acme")]
    assert len(gets) == 1

    hub.stop()  # the hub is gone and we are offline: the cached file is reused
    second = context("hf:acme/tiny-coder/tiny-coder.gguf", {**env, "HF_HUB_OFFLINE": "1"}, source)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["tokenizer"] == str(tokenizer)


def test_unknown_reference_offline_names_the_setting(tmp_path: Path):
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    env = {"HF_HUB_CACHE": str(tmp_path / "empty"), "HF_HUB_OFFLINE": "1"}
    result = context("acme/missing/missing.gguf", env, source)
    assert result.returncode == 2
    assert "`model`" in result.stderr and "acme/missing/missing.gguf" in result.stderr
