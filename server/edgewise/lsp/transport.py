"""A JSON-RPC framing loop that answers what pygls 2.1 leaves unanswered.

pygls drops, without a word, a frame of invalid JSON and a request whose params do not
fit its type, and loses sync after a wrong Content-Length; clients then wait forever.
This loop answers each with the JSON-RPC error the spec asks for and re-synchronises on
the next ``Content-Length`` header. Requests before ``initialize`` get
ServerNotInitialized, a second ``initialize`` and requests after ``shutdown`` get
InvalidRequest (see :class:`EdgewiseProtocol`). A frame nested too deep to decode safely
is answered without being handled (see nesting.py), and every number written is finite
(see :meth:`EdgewiseProtocol.write_message`).
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import logging
import os
import re
import select
import stat
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, BinaryIO, Protocol

from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from edgewise.lsp.nesting import MAX_DEPTH, deeper_than, top_level_members
from edgewise.lsp.pygls_hooks import (
    HookedProtocol,
    framed,
    pending_requests,
    pygls_send,
    serialize,
    shut_down,
)


class AsyncReader(Protocol):
    def readline(self) -> Awaitable[bytes]: ...

    def readexactly(self, n: int) -> Awaitable[bytes]: ...


log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INTERNAL_ERROR = -32603
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
HEADER = re.compile(rb"Content-Length:\s*(\d+)\s*$", re.IGNORECASE)
MARKER = b"Content-Length:"
MAX_FRAME = 256 * 1024 * 1024
# the event loop's time when the bytes of the message being handled arrived (None when
# the reader cannot tell); a handler started for a message sees that message's time
RECEIVED_AT: ContextVar[float | None] = ContextVar("edgewise_received_at", default=None)


def error_response(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


class PipeStdinReader:
    """stdin read by the event loop itself, for pipes and sockets (how editors start a
    server). pygls' reader hands every line and body to a thread and back, three round
    trips per message; here a message that is already in the pipe costs none (measured:
    a request was read p50 3.2 ms after it was sent, behind its didChange). Input that
    arrives while the loop is busy stays in the pipe, so ``arrived`` sees it there and
    long work in a pause can stop for it."""

    CHECK_EVERY_S = 0.001  # ``arrived`` asks the kernel at most this often

    def __init__(self, stdin: BinaryIO) -> None:
        self.stdin = stdin
        self._stream: asyncio.StreamReader | None = None
        self.received_at: float | None = None  # loop time the latest bytes were read

    @staticmethod
    def usable(stdin: BinaryIO) -> bool:
        if sys.platform == "win32":
            return False
        try:
            mode = os.fstat(stdin.fileno()).st_mode
        except (OSError, ValueError, io.UnsupportedOperation):
            return False
        return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)

    async def _open(self) -> asyncio.StreamReader:
        if self._stream is None:
            stream = asyncio.StreamReader(limit=MAX_FRAME)
            loop = asyncio.get_running_loop()
            await loop.connect_read_pipe(lambda: _Stamped(stream, self, loop), self.stdin)
            self._stream = stream
        return self._stream

    async def readline(self) -> bytes:
        stream = await self._open()
        try:
            return await stream.readline()
        except ValueError:  # a line longer than any frame: noise, dropped
            return b" \n"

    async def readexactly(self, n: int) -> bytes:
        stream = await self._open()
        try:
            return await stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:  # the client closed mid-frame
            return exc.partial

    def arrived(self) -> Callable[[], bool]:
        """A test of whether input is waiting to be read (asked while the loop is busy)."""
        fd = self.stdin.fileno()
        next_check = 0.0

        def waiting() -> bool:
            nonlocal next_check
            now = time.perf_counter()
            if now < next_check:
                return False
            next_check = now + self.CHECK_EVERY_S
            return bool(select.select([fd], [], [], 0)[0])

        return waiting


class _Stamped(asyncio.StreamReaderProtocol):
    """Notes when bytes arrive, for :data:`RECEIVED_AT`."""

    def __init__(
        self, stream: asyncio.StreamReader, owner: PipeStdinReader, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(stream)
        self._owner = owner
        self._clock = loop.time

    def data_received(self, data: bytes) -> None:
        self._owner.received_at = self._clock()
        super().data_received(data)


class PushbackReader:
    """Reads lines and exact byte counts, with bytes that can be put back in front."""

    def __init__(self, reader: AsyncReader) -> None:
        self._reader = reader
        self._buffer = b""

    def unread(self, data: bytes) -> None:
        self._buffer = data + self._buffer

    async def readline(self) -> bytes:
        if self._buffer:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line, self._buffer = self._buffer[: end + 1], self._buffer[end + 1 :]
                return line
            line, self._buffer = self._buffer, b""
            return line + await self._reader.readline()
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        head, self._buffer = self._buffer[:n], self._buffer[n:]
        if len(head) == n:
            return head
        rest = await self._reader.readexactly(n - len(head))
        return head + rest if rest else b""


def strict_json(data: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``data`` as JSON, with every non-finite number (NaN, ±Infinity) written as null."""
    try:
        return json.dumps(data, default=default, allow_nan=False)
    except ValueError:  # a non-finite number somewhere: rare, so found the slow way
        loose = json.loads(json.dumps(data, default=default), parse_constant=lambda _: None)
        log.warning("a non-finite number was sent as null")
        return json.dumps(loose, allow_nan=False)


def reply_id(data: Any) -> Any:
    """The id of an answer to a request (None for a request or a notification)."""
    if isinstance(data, dict):
        return data.get("id") if "method" not in data else None
    return getattr(data, "id", None) if not hasattr(data, "method") else None


class EdgewiseProtocol(HookedProtocol):
    """Adds the lifecycle errors of the LSP spec to pygls' protocol (and commands that
    ``$/cancelRequest`` cancels, see pygls_hooks.py)."""

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.owner = server
        self.initialize_seen = False

    def send_raw(self, data: dict[str, Any]) -> None:
        self.write_message(data)

    def write_message(self, data: Any) -> None:
        """pygls' writer, writing strict JSON only: a non-finite number (``NaN`` and
        ``Infinity`` are not JSON, a client's parser drops the connection on them) is sent
        as null, and an answer that cannot be encoded at all becomes an error answer
        rather than silence."""
        if not data or self.writer is None:
            pygls_send(self, data)
            return
        try:
            body = strict_json(data, lambda value: serialize(self, value))
        except Exception:  # e.g. nested too deep to encode
            log.exception("a message could not be encoded")
            msg_id = reply_id(data)
            if msg_id is None:
                return
            body = strict_json(error_response(msg_id, INTERNAL_ERROR, "unencodable answer"))
        payload = body.encode(self.CHARSET)
        if framed(self):
            header = (
                f"Content-Length: {len(payload)}\r\n"
                f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            )
            payload = header.encode("ascii") + payload
        try:
            written = self.writer.write(payload)
            if inspect.isawaitable(written):
                asyncio.ensure_future(written)
        except BrokenPipeError:
            raise
        except Exception as error:
            log.exception("sending a message failed")
            try:
                self.owner.report_server_error(error, JsonRpcInternalError)
            except Exception:  # reporting must not fail the send's caller
                log.warning("failed to report an error")

    def fail_pending(self, msg_id: Any, reason: str) -> None:
        future = pending_requests(self).pop(msg_id, None)
        if future is not None and not future.done():
            future.set_exception(JsonRpcInternalError(reason))

    def refuse(self, msg_id: Any, method: str) -> bool:
        """Answer a request the lifecycle does not allow; True when it was refused."""
        if method == "initialize":
            if self.initialize_seen:  # the spec: initialize is sent once
                self.send_raw(error_response(msg_id, INVALID_REQUEST, "already initialized"))
                return True
            self.initialize_seen = True
            return False
        if not self.initialize_seen:
            self.send_raw(
                error_response(msg_id, SERVER_NOT_INITIALIZED, "the server is not initialized")
            )
            return True
        if shut_down(self) and method != "exit":
            self.send_raw(error_response(msg_id, INVALID_REQUEST, "the server is shut down"))
            return True
        return False


async def serve_frames(
    stop_event: threading.Event, reader: AsyncReader, protocol: EdgewiseProtocol
) -> None:
    """Read framed messages until EOF or stop, answering every broken one."""
    source = PushbackReader(reader)
    length = 0
    received: float | None = None
    while not stop_event.is_set():
        header = await source.readline()
        if not header:
            break
        match = HEADER.search(header)
        if match:
            length = int(match.group(1))
            # bytes read together arrived together: a frame counts from the read that
            # brought its header (a later one when the loop was busy meanwhile)
            received = getattr(reader, "received_at", None)
            continue
        if header.strip() or not length:
            continue  # other headers (Content-Type) or noise between frames
        if length > MAX_FRAME:
            protocol.send_raw(error_response(None, PARSE_ERROR, "frame too large"))
            length = 0
            continue
        body = await source.readexactly(length)
        length = 0
        if not body:
            break
        RECEIVED_AT.set(received)  # handlers started now (tasks) keep this value
        dispatch(body, protocol, source)
        # a request's handler starts before the next message is read: it sees the
        # document as it was when the request was sent (reads from a full buffer do not
        # yield to the loop by themselves)
        await asyncio.sleep(0)


def resync_point(body: bytes) -> int:
    """Where the next frame's header starts inside a body that was read too long: the
    marker itself, or a start of it cut off at the end of the body."""
    found = body.find(MARKER, 1)
    if found >= 0:
        return found
    for size in range(min(len(MARKER) - 1, len(body) - 1), 0, -1):
        if body.endswith(MARKER[:size]):
            return len(body) - size
    return len(body)


def refuse_deep(members: dict[str, Any], protocol: EdgewiseProtocol) -> None:
    """Answer a message nested deeper than :data:`MAX_DEPTH` (``members``: its top-level
    members, those that could be read) without handling it: a request gets
    InvalidParams (its params are what nests), a reply to one of our requests fails that
    request, a notification is dropped, and a message whose id and method are unknown
    gets InvalidRequest with id null."""
    msg_id, method = members.get("id"), members.get("method")
    reason = f"message nested deeper than {MAX_DEPTH} levels"
    log.warning("refused a frame: %s", reason)
    if msg_id is not None and isinstance(method, str):
        protocol.send_raw(error_response(msg_id, INVALID_PARAMS, f"{reason} ({method})"))
    elif msg_id is not None and msg_id in pending_requests(protocol):
        protocol.fail_pending(msg_id, f"the client's reply was {reason}")
    elif not isinstance(method, str):
        protocol.send_raw(error_response(msg_id, INVALID_REQUEST, reason))


def not_json(constant: str) -> Any:
    """NaN and Infinity, which Python reads but JSON does not have (a NaN setting passes
    every bound of the schema)."""
    raise ValueError(f"{constant} is not a JSON value")


def dispatch(body: bytes, protocol: EdgewiseProtocol, source: PushbackReader) -> None:
    try:
        data = json.loads(body, parse_constant=not_json)
    except RecursionError:  # the decoder stops safely; the id is read from the bytes
        refuse_deep(top_level_members(body), protocol)
        return
    except (ValueError, UnicodeDecodeError) as exc:
        protocol.send_raw(error_response(None, PARSE_ERROR, f"invalid JSON: {exc}"))
        # A wrong Content-Length swallows the start of the next frame: resync on it.
        source.unread(body[resync_point(body) :])
        return
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        protocol.send_raw(
            error_response(
                data.get("id") if isinstance(data, dict) else None,
                INVALID_REQUEST,
                "not a JSON-RPC 2.0 message object",
            )
        )
        return
    if deeper_than(data):  # handlers and converters recurse: never handed one
        refuse_deep(data, protocol)
        return
    has_id = "id" in data and "method" in data
    if has_id and protocol.refuse(data["id"], data["method"]):
        return
    try:
        message = protocol.structure_message(data)
    except JsonRpcInvalidParams:
        if data.get("method") == "initialize":
            protocol.initialize_seen = False  # refused: the client may send a fixed one
        if has_id:
            protocol.send_raw(
                error_response(
                    data["id"], INVALID_PARAMS, f"invalid params for {data.get('method')}"
                )
            )
        elif "id" in data:  # a malformed reply to one of our requests: fail it, never hang
            protocol.fail_pending(data["id"], "the client's reply did not fit the protocol")
        return
    except Exception as exc:  # an unknown structure problem: answer, never hang
        if has_id:
            protocol.send_raw(error_response(data["id"], INVALID_REQUEST, str(exc)))
        return
    try:
        protocol.handle_message(message)
    except Exception:  # handlers report their own errors; the loop must survive
        log.exception("message handling failed")
