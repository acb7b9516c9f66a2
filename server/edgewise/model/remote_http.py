"""HTTP to a remote inference server: pooled connections, bounded retries, clear errors.

One ``Endpoint`` per configured server. Its sync client serves the small JSON calls
(probing, tokenizing) from any thread; an async client per event loop streams the
generations, so that closing a stream (cancellation) stops the server's work between
chunks. Only connection errors are retried (with backoff): an HTTP error, a timeout or
a stream cut after it started is reported at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from edgewise.model.backend import ModelError

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


class RemoteError(ModelError):
    """A remote server failed a request (down, HTTP error, timeout, cut stream)."""

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind  # unreachable | status | timeout | cut (after a 200) | other


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


def api_key_from_env(name: str) -> str | None:
    """The key held by the environment variable ``name`` (never the name's value in errors)."""
    if not name:
        return None
    key = os.environ.get(name, "")
    if not key:
        raise ModelError(
            f"setting 'apiKeyEnv' names the environment variable {name}, which is not set"
        )
    return key


class Endpoint:
    def __init__(self, url: str, api_key: str | None, timeout_ms: int, parallel: int) -> None:
        self.url = base_url(url)
        self.shown = display_url(self.url)
        self.timeout_s = timeout_ms / 1000.0
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._headers = headers
        self._limits = httpx.Limits(
            max_connections=parallel + 4, max_keepalive_connections=parallel + 4
        )
        self._timeout = httpx.Timeout(self.timeout_s)
        self.client = httpx.Client(
            base_url=self.url, headers=headers, timeout=self._timeout, limits=self._limits
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
        return RemoteError(f"{where} answered HTTP {status} to {path}: {detail}", "status")

    # --- plain JSON calls (sync, any thread) -------------------------------------------

    def call(self, method: str, path: str, body: Any = None, missing_ok: bool = False) -> Any:
        """JSON in, JSON out. With ``missing_ok`` a 404/405/501 (no such endpoint) gives None."""
        for attempt in range(RETRIES):
            try:
                response = self.client.request(method, path, json=body)
                break
            except CONNECTION_ERRORS as exc:
                if attempt + 1 == RETRIES:
                    raise self.describe(exc, path) from exc
                time.sleep(BACKOFF_S * 2**attempt)
            except httpx.HTTPError as exc:
                raise self.describe(exc, path) from exc
        if missing_ok and response.status_code in (404, 405, 501):
            return None
        if response.status_code >= 400:
            raise self.status_error(response.status_code, response.content, path)
        try:
            return response.json()
        except ValueError as exc:
            if missing_ok:
                return None
            raise RemoteError(f"the server at {self.shown} sent non-JSON on {path}") from exc

    # --- streaming (async) -------------------------------------------------------------

    def _aclient(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        entry = self._async.get(id(loop))
        if entry is None or entry[0] is not loop:
            client = httpx.AsyncClient(
                base_url=self.url, headers=self._headers, timeout=self._timeout, limits=self._limits
            )
            self._async[id(loop)] = (loop, client)
            return client
        return entry[1]

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Server-sent events of one streamed request, as JSON objects; ends at [DONE].

        Leaving the iteration early (a stop, a cancel) closes the response, which the
        server takes as the client going away and stops generating.
        """
        client = self._aclient()
        for attempt in range(RETRIES):
            answered = False  # once the server answered, nothing is sent again
            try:
                async with client.stream("POST", path, json=body) as response:
                    answered = True
                    if response.status_code >= 400:
                        raise self.status_error(response.status_code, await response.aread(), path)
                    async for event in _events(response):
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

    async def aclose(self) -> None:
        entry = self._async.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[1].aclose()

    def close(self) -> None:
        self.client.close()
        self._async.clear()  # their loops close them (or are gone already)


async def _events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line[5:].strip())
            continue
        if line.strip() or not data:
            continue  # comments (": ping"), event names, other fields
        payload, data = "\n".join(data), []
        if payload == "[DONE]":
            return
        yield _decode(payload)
    if data and "\n".join(data) != "[DONE]":
        yield _decode("\n".join(data))


def _decode(payload: str) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError as exc:
        raise RemoteError(f"the server sent a malformed stream event: {payload[:120]!r}") from exc
    if not isinstance(value, dict):
        raise RemoteError(f"the server sent an unexpected stream event: {payload[:120]!r}")
    return value


def error_detail(body: bytes) -> str:
    """The human part of an error body ({"error": {"message": ...}} and the like)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text[:300] or "(empty body)"
    if isinstance(value, dict):
        err = value.get("error", value.get("detail", value))
        if isinstance(err, dict):
            err = err.get("message", err)
        text = str(err)
    return text.split("\n", 1)[0][:300]
