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


def open_doc(client: LanguageClient, uri: str, language: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=version, text=text
            )
        )
    )
