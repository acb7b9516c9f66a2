"""The editor's workspace folder reaches the context engine: a completion's prompt holds
the signatures of definitions imported from other files of the workspace. A folder added
later reaches it too, and the edit guard with it."""

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


async def prompt_at_blank_line(client: LanguageClient, uri: str) -> dict[str, Any]:
    """What the model was sent for a completion on cart.py's blank line."""
    line = PYTHON_PROJECT["shop/cart.py"].splitlines().index("    ")
    await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )


async def test_completion_prompt_carries_signatures_from_imported_files(
    client: LanguageClient, project: Path
):
    uri = (project / "shop" / "cart.py").as_uri()
    open_doc(client, uri, "python", PYTHON_PROJECT["shop/cart.py"])
    sent = await prompt_at_blank_line(client, uri)
    sources = {p["source"] for p in sent["pieces"] if p["kind"] == "signature"}
    assert (project / "shop" / "models.py").as_uri() in sources
    assert "def discount(item: Item, percent: int) -> float:" in sent["text"]
    assert "# shop/models.py\n" in sent["text"]


@pytest_lsp.fixture(config=SERVER)
async def elsewhere(lsp_client: LanguageClient, tiny_model: Any, tmp_path: Path):
    """A session whose one workspace folder is not the project."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            initialization_options=tiny_options(tiny_model),
            workspace_folders=[types.WorkspaceFolder(uri=other.as_uri(), name="elsewhere")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def edit_refusal(client: LanguageClient, uri: str) -> str | None:
    """Why the server refuses to edit ``uri`` (None: it does not)."""
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(5, 4), end=types.Position(5, 4)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(a for a in actions if isinstance(a, types.CodeAction))
    if action.edit is None and action.disabled is None:
        action = await client.code_action_resolve_async(action)
    reason = action.disabled.reason if action.disabled is not None else None
    return reason if reason is not None and "will not edit" in reason else None


async def test_a_folder_added_later_reaches_the_context_and_the_edit_guard(
    elsewhere: LanguageClient, tmp_path: Path
):
    client = elsewhere
    root = tmp_path / "project"
    write(root, PYTHON_PROJECT)
    uri = (root / "shop" / "cart.py").as_uri()
    text = PYTHON_PROJECT["shop/cart.py"]
    open_doc(client, uri, "python", text)
    before = await prompt_at_blank_line(client, uri)
    assert "def discount(" not in before["text"]  # the project is not a workspace folder
    assert await edit_refusal(client, uri) is not None

    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=root.as_uri(), name="shop")], removed=[]
            )
        )
    )
    end = types.Position(line=len(text.splitlines()), character=0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=end, end=end), text="\n"
                )
            ],
        )
    )
    after = await prompt_at_blank_line(client, uri)
    sources = {p["source"] for p in after["pieces"] if p["kind"] == "signature"}
    assert (root / "shop" / "models.py").as_uri() in sources
    assert "def discount(item: Item, percent: int) -> float:" in after["text"]
    assert await edit_refusal(client, uri) is None
