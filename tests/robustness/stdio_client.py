"""A raw JSON-RPC client over the server's stdio, so tests can send broken frames (and the
benchmarks time each message: bench/latency.py builds on it)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

SERVE = [sys.executable, "-m", "edgewise.cli", "serve"]


class RawClient:
    def __init__(self, env: dict[str, str] | None = None, stderr_path: str | None = None) -> None:
        self._stderr = open(stderr_path, "wb") if stderr_path else None  # noqa: SIM115
        self.proc = subprocess.Popen(
            SERVE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr or subprocess.PIPE,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
            start_new_session=True,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        self.early: dict[Any, dict[str, Any]] = {}  # replies read before they were asked for
        self.server_requests: list[dict[str, Any]] = []
        self.non_json: list[bytes] = []  # frames holding NaN or Infinity
        self._next_id = 1
        threading.Thread(target=self._read, daemon=True).start()
        if self.proc.stderr is not None:
            threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for _ in iter(self.proc.stderr.readline, b""):
            pass

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n"):
                    break
            body = out.read(length)
            self.received(json.loads(body, parse_constant=lambda _, b=body: self._lax(b)))

    def received(self, message: dict[str, Any]) -> None:
        """Each message from the server, on the reader thread, as it arrives."""
        self.messages.put(message)

    def _lax(self, body: bytes) -> None:
        """A NaN or Infinity in a frame: not JSON (strict parsers drop the connection)."""
        self.non_json.append(body)

    # --- sending -----------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any = None) -> int:
        msg_id = self._next_id
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    # --- receiving ---------------------------------------------------------------------

    def next_response(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no response from the server")
            message = self.messages.get(timeout=remaining)
            if not self._sorted(message):
                return message

    def _sorted(self, message: dict[str, Any]) -> bool:
        """Keeps a notification, answers a request from the server; False for a reply."""
        if "method" in message and "id" not in message:
            self.notifications.append(message)
            return True
        if "method" in message:  # a request from the server: answer it
            self.server_requests.append(message)
            result = {"applied": True} if message["method"] == "workspace/applyEdit" else None
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            return True
        return False

    def wait_notification(
        self, found: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first notification (read so far, or arriving within ``timeout``) for
        which ``found`` holds; replies read meanwhile are kept for ``response_to``."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.notifications[seen:]:
                if found(message):
                    return message
            seen = len(self.notifications)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the notification never came")
            try:
                message = self.messages.get(timeout=min(remaining, 0.1))
            except queue.Empty:
                continue
            if not self._sorted(message) and message.get("id") is not None:
                self.early[message["id"]] = message

    def report_status(self, reply: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """The ``edgewise/status`` notification carrying the report of a completion's
        ``reply`` (sent just after the reply: the answer does not wait for it)."""
        items = (reply.get("result") or {}).get("items") or []
        report_id = items[0]["command"]["arguments"][0]
        return self.wait_notification(
            lambda m: (
                m["method"] == "edgewise/status"
                and (m["params"].get("last") or {}).get("id") == report_id
            ),
            timeout,
        )["params"]

    def response_to(self, msg_id: int | None, timeout: float = 30.0) -> dict[str, Any]:
        """The reply to ``msg_id``; replies to other requests read meanwhile are kept for
        their own ``response_to`` (the server may answer requests out of order)."""
        if msg_id in self.early:
            return self.early.pop(msg_id)
        deadline = time.monotonic() + timeout
        while True:
            message = self.next_response(max(deadline - time.monotonic(), 0.01))
            if message.get("id") == msg_id:
                return message
            if message.get("id") is not None:
                self.early[message["id"]] = message

    def call(self, method: str, params: Any = None, timeout: float = 30.0) -> dict[str, Any]:
        """The reply; for a completion with text, once its report's status (sent just
        after the reply) has come too, as tests and benchmarks read it next."""
        reply = self.response_to(self.request(method, params), timeout)
        if method == "textDocument/inlineCompletion" and (reply.get("result") or {}).get("items"):
            self.report_status(reply, timeout)
        return reply

    def insert(self, uri: str, version: int, line: int, character: int, text: str) -> None:
        """A didChange that types ``text`` at (``line``, ``character``)."""
        at = {"line": line, "character": character}
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
            },
        )

    def inline(
        self, uri: str, line: int, character: int, trigger: int = 1, timeout: float = 120.0
    ) -> dict[str, Any]:
        """An inline completion at (``line``, ``character``), as ``call`` answers it."""
        return self.call(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": trigger},
            },
            timeout,
        )

    def initialize(
        self,
        options: dict[str, Any],
        root: str = "file:///work/project",
        capabilities: dict[str, Any] | None = None,
    ) -> None:
        reply = self.call(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root,
                "capabilities": capabilities or {},
                "initializationOptions": options,
                "workspaceFolders": [{"uri": root, "name": "project"}],
            },
        )
        assert "result" in reply, reply
        self.notify("initialized", {})

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}},
        )

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        if self._stderr is not None:
            self._stderr.close()
