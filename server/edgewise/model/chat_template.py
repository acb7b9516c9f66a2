"""A model's chat template, rendered with a time and a size limit.

A chat template is a Jinja program that comes from outside edgewise (a server's
``/props``, a GGUF the user picked), and Jinja's sandbox bounds what it may touch but not
how long it runs or how much it allocates: nested loops ran for hours, one string
multiplication can take all memory. So templates are rendered by llama-cpp-python's own
formatter in a worker process (``chat_template_worker.py``, one per template, kept for
the session): each render must answer within ``RENDER_S`` (else the worker is killed and
the next render starts a new one), the worker's address space is capped (1 GiB), and a
prompt over ``MAX_PROMPT_CHARS`` is refused. A render costs a pipe round trip (about a
millisecond for a normal template); the worker's start (importing the formatter, about
0.4 s) is paid once, and starts early where the template is known in advance.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

from edgewise.model.backend import ModelError

RENDER_S = 2.0  # a normal template renders in milliseconds
START_S = 30.0  # the worker's start on a busy machine
MAX_PROMPT_CHARS = 4 * 1024 * 1024
WORKER = Path(__file__).with_name("chat_template_worker.py")


class ChatTemplate:
    def __init__(self, template: str, bos_token: str, eos_token: str, source: str) -> None:
        self.template = template
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.source = source  # whose template, for messages: "the server at ..."
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes]], ChatTemplate] | None = None

    def start(self) -> None:
        """Start the worker now (it imports for a while), without waiting for it."""
        with self._lock:
            self._spawn()

    def render(self, messages: list[dict[str, str]]) -> str:
        request = {
            "template": self.template,
            "bos": self.bos_token,
            "eos": self.eos_token,
            "messages": messages,
        }
        data = (json.dumps(request) + "\n").encode("utf-8")
        with self._lock:
            proc = self._spawn()
            try:
                if not self._ready:
                    self._line(proc, START_S, "start")
                    self._ready = True
                started = time.monotonic()
                assert proc.stdin is not None
                proc.stdin.write(data)
                proc.stdin.flush()
                line = self._line(proc, RENDER_S - (time.monotonic() - started), "render")
            except (ModelError, OSError) as exc:
                self._stop()
                if isinstance(exc, ModelError):
                    raise
                raise ModelError(
                    f"the chat template of {self.source} could not be rendered: its "
                    "renderer stopped"
                ) from exc
        try:
            answer = json.loads(line)
        except ValueError:
            answer = {"error": "its renderer answered oddly"}
        if not isinstance(answer, dict) or not isinstance(answer.get("prompt"), str):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise ModelError(f"the chat template of {self.source} failed: {error}")
        return str(answer["prompt"])

    def close(self) -> None:
        with self._lock:
            self._stop()

    # --- the worker ----------------------------------------------------------------

    def _spawn(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-P", str(WORKER), str(MAX_PROMPT_CHARS)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            self._ready = False
            self._finalizer = weakref.finalize(self, _kill, self._proc)
        return self._proc

    def _line(self, proc: subprocess.Popen[bytes], timeout: float, step: str) -> bytes:
        """One line from the worker within ``timeout``."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        data = bytearray()
        cap = 6 * MAX_PROMPT_CHARS + 4096  # JSON-escaped
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                if step == "start":
                    raise ModelError(
                        f"the chat template renderer did not start within {timeout:g} s"
                    )
                raise ModelError(
                    f"the chat template of {self.source} took over {RENDER_S:g} s to "
                    "render (a normal one takes milliseconds); edgewise stopped it"
                )
            chunk = os.read(fd, 1 << 16)
            if not chunk or len(data) + len(chunk) > cap:
                raise ModelError(
                    f"the chat template of {self.source} could not be rendered: its "
                    "renderer stopped"
                )
            data += chunk
        return bytes(data)

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._proc = None
        self._ready = False


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()
