"""The editor's workspace folder reaches the context engine: a completion's prompt holds
the signatures of definitions imported from other files of the workspace."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import SERVER_ENV, open_doc, tiny_options
from tests.unit.test_context_imports import PYTHON_PROJECT, write

SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "edgewise.cli", "serve"], server_env=SERVER_ENV
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    write(root, PYTHON_PROJECT)
    return root


@pytest_lsp.fixture(config=SERVER, params=["neovim", "visual-studio-code"])
async def client(request: Any, lsp_client: LanguageClient, tiny_model: Any, project: Path):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            initialization_options=tiny_options(tiny_model),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="shop")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_completion_prompt_carries_signatures_from_imported_files(
    client: LanguageClient, project: Path
):
    uri = (project / "shop" / "cart.py").as_uri()
    text = PYTHON_PROJECT["shop/cart.py"]
    open_doc(client, uri, "python", text)
    line = text.splitlines().index("    ")
    await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    sent = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    sources = {p["source"] for p in sent["pieces"] if p["kind"] == "signature"}
    assert (project / "shop" / "models.py").as_uri() in sources
    assert "def discount(item: Item, percent: int) -> float:" in sent["text"]
    assert "# shop/models.py\n" in sent["text"]
