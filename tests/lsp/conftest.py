"""A real LSP client (pytest-lsp) talking to `edgewise serve` over stdio."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER_ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "EDGEWISE_STATE_DIR": tempfile.mkdtemp(prefix="edgewise-lsp-state-"),
}
SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "edgewise.cli", "serve"], server_env=SERVER_ENV
)
PROFILES = ["neovim", "visual-studio-code"]


def tiny_options(model: Any, **extra: Any) -> dict[str, Any]:
    # One llama.cpp thread: on a loaded 2-core machine two threads spin against each
    # other (measured 16-25x slower), and a completion then hits maxCompletionMs.
    # maxCompletionMs: the 5 s default cap cuts generations short on a loaded machine, and
    # the determinism test compares two generations
    return {
        "model": str(model),
        "debounceMs": 0,
        "minConfidence": 0,  # the tiny model's text is noise: show it all the same
        "trimBelow": 0,  # ... and all of it
        "maxTokens": 24,
        "contextLength": 2048,
        "threads": 1,
        "maxCompletionMs": 60000,
        **extra,
    }


async def start(lsp_client: LanguageClient, profile: str, options: dict[str, Any]) -> None:
    lsp_client.status_updates = []  # type: ignore[attr-defined]

    @lsp_client.feature("edgewise/status")
    def _status(params: Any) -> None:
        lsp_client.status_updates.append(params)  # type: ignore[attr-defined]

    wait_for_reports(lsp_client)

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(profile),
            initialization_options=options,
            workspace_folders=[types.WorkspaceFolder(uri="file:///work/project", name="project")],
        )
    )


@pytest_lsp.fixture(config=SERVER, params=PROFILES)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient, tiny_model: Any):
    await start(lsp_client, request.param, tiny_options(tiny_model))
    yield
    await lsp_client.shutdown_session()


async def wait_until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until ``check()`` is truthy (notifications arrive asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.05)


def wait_for_reports(client: LanguageClient) -> None:
    """The client's inline completions return once the status with their report (sent
    just after the answer) has come too, as the tests read it next."""
    ask = client.text_document_inline_completion_async

    async def inline_completion(params: Any) -> Any:
        seen = len(client.status_updates)  # type: ignore[attr-defined]
        answer = await ask(params)
        if answer is not None and getattr(answer, "items", None):
            await report_status(client, seen)
        return answer

    client.text_document_inline_completion_async = inline_completion  # type: ignore[method-assign]


def has_report(status: Any) -> bool:
    last = status.get("last") if isinstance(status, dict) else getattr(status, "last", None)
    return bool(last)


async def report_status(client: LanguageClient, seen: int, timeout: float = 10.0) -> Any:
    """The first ``edgewise/status`` carrying a report after the first ``seen`` ones: a
    completion's comes just after its answer (the answer does not wait for it). None when
    none comes in ``timeout`` (an answer the server gave up on has none)."""
    updates = client.status_updates  # type: ignore[attr-defined]

    def found() -> Any:
        return next((s for s in updates[seen:] if has_report(s)), None)

    try:
        return await wait_until(found, timeout)
    except AssertionError:
        return None


def open_doc(client: LanguageClient, uri: str, language: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=version, text=text
            )
        )
    )
