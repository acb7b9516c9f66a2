"""``edgewise.rewrite`` shows its change before applying it: with a client that supports
change annotations (VS Code), the edit sent through ``workspace/applyEdit`` carries the
annotation ``edgewise.preview`` that needs confirmation; discarded, nothing changes and
no report is shown; accepted, it is applied and reported. A client without annotations
(Neovim's declared capabilities) gets the plain edit. SmolLM2 in real llama.cpp."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import SERVER, wait_until
from tests.lsp.editor import Editor, make_workspace, start_editor
from tests.lsp.test_actions_real_model import real_options

INSTRUCTION = "use a while loop"
RANGE = {"start": {"line": 13, "character": 0}, "end": {"line": 15, "character": 28}}


def arguments(uri: str) -> list[dict[str, Any]]:
    return [{"uri": uri, "range": RANGE, "instruction": INSTRUCTION}]


async def rewrite(client: LanguageClient, uri: str) -> dict[str, Any]:
    return await client.workspace_execute_command_async(  # type: ignore[no-any-return]
        types.ExecuteCommandParams(command="edgewise.rewrite", arguments=arguments(uri))
    )


@pytest_lsp.fixture(config=SERVER)
async def vscode(lsp_client: LanguageClient, smollm2: Path, tmp_path: Path):
    root = make_workspace(tmp_path / "project")
    options = real_options(smollm2)
    lsp_client.editor = await start_editor(lsp_client, "visual-studio-code", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def neovim(lsp_client: LanguageClient, smollm2: Path, tmp_path: Path):
    root = make_workspace(tmp_path / "project")
    options = real_options(smollm2)
    lsp_client.editor = await start_editor(lsp_client, "neovim", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_the_rewrite_is_previewed_and_applied_only_when_accepted(vscode: LanguageClient):
    client = vscode
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    before = editor.text(uri)

    editor.confirm = False  # the person discards the preview
    declined = await rewrite(client, uri)
    (sent,) = editor.requested
    annotations = sent.edit.change_annotations or {}
    assert list(annotations) == ["edgewise.preview"]
    note = annotations["edgewise.preview"]
    assert note.needs_confirmation is True
    assert note.label == f"edgewise: Rewrite: {INSTRUCTION}"
    edits = [e for c in sent.edit.document_changes or [] for e in c.edits]  # type: ignore[union-attr]
    assert edits and all(
        isinstance(e, types.AnnotatedTextEdit) and e.annotation_id == "edgewise.preview"
        for e in edits
    )
    assert declined["applied"] is False
    assert "discarded in the preview" in declined["reason"]
    assert editor.text(uri) == before, "nothing changed"
    assert not [d for d in client.diagnostics.get(uri, []) if d.code == "action:rewrite"]

    editor.confirm = True  # asked again, the person accepts: applied and reported
    accepted = await rewrite(client, uri)
    assert accepted["applied"] is True, accepted.get("reason")
    assert editor.text(uri) != before
    diagnostics = await wait_until(lambda: client.diagnostics.get(uri))
    mark = next(d for d in diagnostics if d.code == "action:rewrite")
    assert mark.data["id"] == accepted["report"]["id"]
    assert mark.range.start.line == mark.range.end.line == 13  # its first line


async def test_a_client_without_change_annotations_gets_the_plain_edit(neovim: LanguageClient):
    client = neovim
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    before = editor.text(uri)
    result = await rewrite(client, uri)
    assert result["applied"] is True, result.get("reason")
    (sent,) = editor.requested
    assert sent.edit.change_annotations is None and sent.edit.changes
    assert editor.text(uri) != before
