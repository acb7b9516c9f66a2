"""HTTP to a remote inference server: pooled connections, bounded retries, clear errors.

One ``Endpoint`` per configured server. Its sync client serves the small JSON calls
(probing, tokenizing) from any thread; an async client per event loop streams the
generations, so that closing a stream (cancellation) stops the server's work between
chunks. Only connection errors are retried (with backoff): an HTTP error, a timeout or
a stream cut after it started is reported at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from edgewise.model.backend import ModelError
from edgewise.redact import SECRETS, excerpt, redact

RETRIES = 3  # attempts for a connection error
BACKOFF_S = 0.2  # first wait between attempts; doubles each time
# Errors of the connection itself, before the server answered: it was not reachable, or
# a pooled keep-alive connection had been closed by the server (a restarted server).
# Sending again is safe: a generation has no side effects.
CONNECTION_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
JSON_MAX_BYTES = 8 * 1024 * 1024  # a JSON answer: model list, /props, tokenize
ERROR_MAX_BYTES = 64 * 1024  # what is read of an error body (one line of it is shown)
LINE_MAX_BYTES = 1024 * 1024  # one line (one event) of a stream
STREAM_MAX_BYTES = 16 * 1024 * 1024  # one streamed answer, all of it
TOTAL_TIMEOUTS = 2  # a JSON answer must be complete within this many requestTimeoutMs


class RemoteError(ModelError):
    """A remote server failed a request (down, HTTP error, timeout, cut stream)."""

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(redact(message))
        self.kind = kind  # unreachable | status | timeout | cut (after a 200) | limit | other


def base_url(raw: str) -> str:
    """``http://host:port`` from what the user wrote (a trailing ``/`` or ``/v1`` is dropped)."""
    url = raw.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelError(
            f"setting 'backend' must be 'embedded' or an http(s) URL, got '{display_url(raw)}'"
        )
    return url


def display_url(url: str) -> str:
    """The URL without any user:password part, fit for messages and reports."""
    parts = urlsplit(url.strip())
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def credentials(url: str) -> tuple[str, str] | None:
    """The user and password written in the URL (sent as Basic authorization)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return None
    return unquote(parts.username or ""), unquote(parts.password or "")


def api_key_from_env(name: str) -> str | None:
    """The key held by the environment variable ``name`` (never the name's value in errors)."""
    if not name:
        return None
    key = os.environ.get(name, "")
    SECRETS.add(key)
    if not key:
        raise ModelError(
            f"setting 'apiKeyEnv' names the environment variable {name}, which is not set"
        )
    return key


class Endpoint:
    def __init__(self, url: str, api_key: str | None, timeout_ms: int, parallel: int) -> None:
        SECRETS.add_url(url)
        SECRETS.add(api_key)
        # The credentials of the URL go as an auth object, so that the URL httpx holds
        # (and logs) has none; with an API key, the key is the Authorization header.
        login = None if api_key else credentials(base_url(url))
        self._auth = httpx.BasicAuth(*login) if login else None
        self.url = display_url(base_url(url)).rstrip("/")
        self.shown = self.url
        self.timeout_s = timeout_ms / 1000.0
        self.total_s = TOTAL_TIMEOUTS * self.timeout_s
        # identity: a compressed body could grow past the caps in one piece
        headers = {"Accept-Encoding": "identity"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._headers = headers
        self._limits = httpx.Limits(
            max_connections=parallel + 4, max_keepalive_connections=parallel + 4
        )
        self._timeout = httpx.Timeout(self.timeout_s)
        self.client = httpx.Client(
            base_url=self.url,
            headers=headers,
            auth=self._auth,
            timeout=self._timeout,
            limits=self._limits,
        )
        self._async: dict[int, tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]] = {}

    # --- errors ------------------------------------------------------------------------

    def describe(self, exc: BaseException, path: str) -> RemoteError:
        where = f"the server at {self.shown}"
        if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
            reason = str(exc) or type(exc).__name__
            if "refused" in reason.lower():
                reason = "connection refused"
            return RemoteError(
                f"cannot reach {where} ({reason}) after {RETRIES} attempts; is it running?",
                "unreachable",
            )
        if isinstance(exc, httpx.TimeoutException):
            return RemoteError(
                f"{where} sent nothing for {self.timeout_s:g} s on {path} "
                "(setting 'requestTimeoutMs'); it may be overloaded",
                "timeout",
            )
        if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return RemoteError(
                f"{where} closed the connection during {path}: it stopped or crashed"
            )
        return RemoteError(f"request to {where} failed on {path}: {type(exc).__name__}: {exc}")

    def status_error(self, status: int, body: bytes, path: str) -> RemoteError:
        detail = error_detail(body)
        where = f"the server at {self.shown}"
        if status in (401, 403):
            return RemoteError(
                f"{where} refused the API key (HTTP {status}); check the environment "
                "variable named by 'apiKeyEnv'",
                "status",
            )
        if len(body) >= ERROR_MAX_BYTES:
            detail += f" (the body went on past {_size(ERROR_MAX_BYTES)}: edgewise read no more)"
        return RemoteError(f"{where} answered HTTP {status} to {path}: {detail}", "status")

    def too_big(self, path: str, what: str, cap: int) -> RemoteError:
        return RemoteError(
            f"the server at {self.shown} sent {what} over {_size(cap)} on {path}; "
            "edgewise stopped reading it (is the server misbehaving?)",
            "limit",
        )

    def too_slow(self, path: str, limit_s: float) -> RemoteError:
        return RemoteError(
            f"the server at {self.shown} did not finish its answer on {path} within "
            f"{limit_s:g} s ({TOTAL_TIMEOUTS} × setting 'requestTimeoutMs'); it may be "
            "overloaded or misbehaving",
            "timeout",
        )

    # --- plain JSON calls (sync, any thread) -------------------------------------------

    def call(self, method: str, path: str, body: Any = None, missing_ok: bool = False) -> Any:
        """JSON in, JSON out. With ``missing_ok`` a 404/405/501 (no such endpoint) gives None.

        The answer is read up to ``JSON_MAX_BYTES`` and ``total_s``; beyond either the
        call fails (an error body is only read that far, and shown)."""
        deadline = time.monotonic() + self.total_s
        for attempt in range(RETRIES):
            try:
                with self.client.stream(method, path, json=body) as response:
                    status = response.status_code
                    data = self._read(response, path, status < 400, deadline)
                break
            except CONNECTION_ERRORS as exc:
                if attempt + 1 == RETRIES:
                    raise self.describe(exc, path) from exc
                time.sleep(BACKOFF_S * 2**attempt)
            except httpx.HTTPError as exc:
                raise self.describe(exc, path) from exc
        if missing_ok and status in (404, 405, 501):
            return None
        if status >= 400:
            raise self.status_error(status, data, path)
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            if missing_ok:
                return None
            raise RemoteError(f"the server at {self.shown} sent non-JSON on {path}") from exc

    def _read(self, response: httpx.Response, path: str, strict: bool, deadline: float) -> bytes:
        """The body, in pieces: over the size cap or past ``deadline``, a JSON answer
        (``strict``) fails; an error body is cut there."""
        cap = JSON_MAX_BYTES if strict else ERROR_MAX_BYTES
        data = bytearray()
        try:
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > cap:
                    if strict:
                        raise self.too_big(path, "an answer", cap)
                    break
                if time.monotonic() > deadline:
                    if strict:
                        raise self.too_slow(path, self.total_s)
                    break
        except httpx.HTTPError:
            if strict:
                raise
        return bytes(data[:cap])

    # --- streaming (async) -------------------------------------------------------------

    def _aclient(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        entry = self._async.get(id(loop))
        if entry is None or entry[0] is not loop:
            client = httpx.AsyncClient(
                base_url=self.url,
                headers=self._headers,
                auth=self._auth,
                timeout=self._timeout,
                limits=self._limits,
            )
            self._async[id(loop)] = (loop, client)
            return client
        return entry[1]

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Server-sent events of one streamed request, as JSON objects; ends at [DONE].

        Leaving the iteration early (a stop, a cancel) closes the response, which the
        server takes as the client going away and stops generating. The caller bounds
        the total time (it cancels the iteration at its deadline); the size is bounded
        here.
        """
        client = self._aclient()
        for attempt in range(RETRIES):
            answered = False  # once the server answered, nothing is sent again
            try:
                async with client.stream("POST", path, json=body) as response:
                    answered = True
                    if response.status_code >= 400:
                        error_body = await self._aread_error(response)
                        raise self.status_error(response.status_code, error_body, path)
                    async for event in self._events(response, path):
                        yield event
                    return
            except httpx.HTTPError as exc:
                error = self.describe(exc, path)
                if answered and not isinstance(exc, httpx.TimeoutException):
                    error.kind = "cut"  # the server said 200, then the stream broke
                retry = isinstance(exc, CONNECTION_ERRORS) and not answered
                if not retry or attempt + 1 == RETRIES:
                    raise error from exc
                await asyncio.sleep(BACKOFF_S * 2**attempt)

    async def _aread_error(self, response: httpx.Response) -> bytes:
        """The first ``ERROR_MAX_BYTES`` of an error body, or what came within ``total_s``."""
        data = bytearray()
        with contextlib.suppress(TimeoutError, httpx.HTTPError):
            async with asyncio.timeout(self.total_s):
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > ERROR_MAX_BYTES:
                        break
        return bytes(data[:ERROR_MAX_BYTES])

    async def _lines(self, response: httpx.Response, path: str) -> AsyncIterator[list[bytes]]:
        """The lines of a stream, a batch per piece received; each line at most
        ``LINE_MAX_BYTES``, all at most ``STREAM_MAX_BYTES``."""
        pending = b""
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > STREAM_MAX_BYTES:
                raise self.too_big(path, "a stream", STREAM_MAX_BYTES)
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            if len(pending) > LINE_MAX_BYTES or any(len(x) > LINE_MAX_BYTES for x in lines):
                raise self.too_big(path, "a line", LINE_MAX_BYTES)
            if lines:
                yield lines
        if pending:
            yield [pending]

    async def _events(self, response: httpx.Response, path: str) -> AsyncIterator[dict[str, Any]]:
        data: list[str] = []
        size = 0
        async for lines in self._lines(response, path):
            for raw in lines:
                if raw.startswith(b"data:"):
                    line = raw.rstrip(b"\r").decode("utf-8", "replace")
                    data.append(line[5:].strip())
                    size += len(line)
                    if size > LINE_MAX_BYTES:
                        raise self.too_big(path, "an event", LINE_MAX_BYTES)
                    continue
                if raw.strip() or not data:
                    continue  # comments (": ping"), event names, other fields
                payload, data, size = "\n".join(data), [], 0
                if payload == "[DONE]":
                    return
                yield _decode(payload)
        if data and "\n".join(data) != "[DONE]":
            yield _decode("\n".join(data))

    async def aclose(self) -> None:
        entry = self._async.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].aclose()

    def close(self) -> None:
        self.client.close()
        self._async.clear()  # their loops close them (or are gone already)


def _decode(payload: str) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise RemoteError(
            f"the server sent a malformed stream event: {excerpt(payload, 120)!r}"
        ) from exc
    if not isinstance(value, dict):
        raise RemoteError(f"the server sent an unexpected stream event: {excerpt(payload, 120)!r}")
    return value


def error_detail(body: bytes) -> str:
    """The human part of an error body ({"error": {"message": ...}} and the like)."""
    text = redact(body.decode("utf-8", "replace").strip())
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return excerpt(text, 300) or "(empty body)"
    if isinstance(value, dict):
        err = value.get("error", value.get("detail", value))
        if isinstance(err, dict):
            err = err.get("message", err)
        text = str(err)
    return excerpt(text.split("\n", 1)[0], 300)


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count // 1024} KiB"
