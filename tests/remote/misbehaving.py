"""An OpenAI-compatible server on 127.0.0.1 that misbehaves on purpose, one way at a time.

It speaks llama-server's dialect (``/props``, ``/tokenize``, ``/detokenize``, streamed
``/v1/completions`` and ``/v1/chat/completions``) with a character tokenizer (one token a
code point), and ``mode`` picks the fault; ``"ok"`` answers properly, honouring
``max_tokens``, and ``"replies"`` answers the n-th generation with the n-th of
``replies`` (the last one repeats; a crafted reply). Endless answers stop by themselves after ``ENDLESS_S`` (a test that fails
does not leave a thread writing forever).
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.remote.loopback import LoopbackServer

ENDLESS_S = 30.0
PLAIN_TEMPLATE = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant: "
# 10^10 steps: a sandbox's range() limit (10^5) is no help against nested loops
LOOPING_TEMPLATE = (
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    + PLAIN_TEMPLATE
)
# Memory rather than time: a string far larger than any prompt
HUGE_TEMPLATE = "{{ 'x' * 4000000000 }}" + PLAIN_TEMPLATE
REPLY = "ok"
BUILD_INFO = "b4242-misbehaving"  # /props' build_info, as llama-server reports its build
LOOP = "This function returns the area of the rectangle it is given. "


class MisbehavingServer(LoopbackServer):
    def __init__(
        self, mode: str = "ok", template: str = PLAIN_TEMPLATE, replies: list[str] | None = None
    ) -> None:
        self.mode = mode
        self.template = template
        self.replies = replies or [REPLY]
        self.generations = 0
        self.seen_headers: list[dict[str, str]] = []
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

            def _endless(self, status: int, head: bytes, piece: bytes, delay: float = 0) -> None:
                """A body with no length that never ends (until the client goes)."""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.close_connection = True
                until = time.monotonic() + ENDLESS_S
                try:
                    self.wfile.write(head)
                    while time.monotonic() < until:
                        self.wfile.write(piece)
                        if delay:
                            self.wfile.flush()
                            time.sleep(delay)
                except OSError:
                    pass  # the client went away, as it should

            def _sse_start(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.close_connection = True

            def _event(self, payload: Any) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/v1/models":
                    if owner.mode == "endless-models":
                        self._endless(200, b'{"data": [', b'{"id": "m"}, ' * 1000)
                    elif owner.mode == "dribbled-models":
                        self._endless(200, b'{"data": [', b" ", delay=0.05)
                    else:
                        self._json(200, {"object": "list", "data": [{"id": "misbehaving"}]})
                elif self.path == "/props":
                    self._json(
                        200,
                        {
                            "default_generation_settings": {"n_ctx": 4096},
                            "chat_template": owner.template,
                            "bos_token": "",
                            "eos_token": "",
                            "build_info": BUILD_INFO,
                        },
                    )
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if self.path == "/tokenize" and owner.mode == "odd-tokens":
                    self._json(200, {"tokens": [{"piece": "a"}, "b"]})
                elif self.path == "/tokenize":
                    self._json(200, {"tokens": [ord(c) for c in body.get("content", "")]})
                elif self.path == "/detokenize":
                    self._json(200, {"content": "".join(chr(t) for t in body.get("tokens", []))})
                elif self.path in ("/v1/completions", "/v1/chat/completions"):
                    owner.seen_headers.append(dict(self.headers))
                    self._generate(self.path.endswith("chat/completions"), body)
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def _chunk(self, chat: bool, text: str, finish: str | None = None) -> dict[str, Any]:
                choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
                if chat:
                    choice["delta"] = {"content": text}
                else:
                    choice["text"] = text
                return {"choices": [choice]}

            def _generate(self, chat: bool, body: dict[str, Any]) -> None:
                mode = owner.mode
                if mode == "endless-500":
                    self._endless(500, b'{"error": {"message": "', b"out of memory " * 1000)
                elif mode == "echo-500":
                    echoed = json.dumps(dict(self.headers))
                    self._json(500, {"error": {"message": f"bad request with headers {echoed}"}})
                elif mode == "endless-line":
                    self._endless(200, b'data: {"choices": [{"text": "', b"a" * 65536)
                elif mode == "endless-stream":  # many short lines, never [DONE]
                    self._endless(200, b"", b": ping\n" * 10000)
                elif mode in ("ignores-max-tokens", "pings-forever"):
                    self._sse_start()
                    until = time.monotonic() + ENDLESS_S
                    try:
                        while time.monotonic() < until:
                            if mode == "pings-forever":
                                self.wfile.write(b": ping\n\n")
                                self.wfile.flush()
                                time.sleep(0.05)
                            else:
                                self._event(self._chunk(chat, "more();\n"))
                    except OSError:
                        pass
                elif mode == "one-huge-chunk":
                    self._sse_start()
                    self._event(self._chunk(chat, "x = 1\n" * 20000, "stop"))
                    self.wfile.write(b"data: [DONE]\n\n")
                elif mode == "loops":  # one sentence again and again, to max_tokens
                    self._sse_start()
                    limit = int(body.get("max_tokens") or 16)
                    reply = (LOOP * (limit // len(LOOP) + 1))[:limit]
                    try:
                        for index, char in enumerate(reply):
                            finish = "length" if index + 1 == limit else None
                            self._event(self._chunk(chat, char, finish))
                        self.wfile.write(b"data: [DONE]\n\n")
                    except OSError:
                        pass  # the client stopped reading: it saw the loop
                elif mode == "replies":
                    owner.generations += 1
                    reply = owner.replies[min(owner.generations, len(owner.replies)) - 1]
                    self._sse_start()
                    for start in range(0, len(reply), 8):
                        self._event(self._chunk(chat, reply[start : start + 8]))
                    self._event(self._chunk(chat, "", "stop"))
                    self.wfile.write(b"data: [DONE]\n\n")
                elif mode == "echo-mid-stream":
                    self._sse_start()
                    self._event({"error": {"message": f"echo {dict(self.headers)}"}})
                else:
                    self._sse_start()
                    limit = int(body.get("max_tokens") or 16)
                    for index, char in enumerate((REPLY * limit)[:limit]):
                        finish = "length" if index + 1 == limit else None
                        self._event(self._chunk(chat, char, finish))
                    self.wfile.write(b"data: [DONE]\n\n")

        super().__init__(Handler)
