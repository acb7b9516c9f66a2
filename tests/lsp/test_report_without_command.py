"""A code action's report shows once its edit is in the document, also when the editor
never runs the action's command: VS Code drops a resolved action's command when the
list it came from was replaced while the model ran (the cursor moved, the diagnostics
changed), and applies the edit all the same. Through a real LSP client and the tiny
model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.action_checks import actions_at, resolved, titled
from tests.lsp.conftest import SERVER, tiny_options, wait_until
from tests.lsp.editor import Editor, make_workspace, start_editor

DOCSTRING = "Add docstring (edgewise)"


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tiny_model: Any, tmp_path: Path):
    root = make_workspace(tmp_path / "project")
    editor = await start_editor(lsp_client, "visual-studio-code", tiny_options(tiny_model), root)
    lsp_client.editor = editor  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def report_rows(client: LanguageClient, uri: str, report_id: str) -> list[types.Diagnostic]:
    return [
        d
        for d in client.diagnostics.get(uri, [])
        if d.code != "low-confidence" and isinstance(d.data, dict) and d.data.get("id") == report_id
    ]


async def applied_count(client: LanguageClient) -> Any:
    cost = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )
    return cost["session"]["applied_changes"]


async def test_the_report_shows_when_the_edit_arrives_without_its_command(client: LanguageClient):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    action = await resolved(client, titled(await actions_at(client, uri, 3, 5), DOCSTRING))
    assert action.disabled is None and action.edit is not None, action.disabled
    assert action.command is not None
    report_id = action.command.arguments[0]  # type: ignore[index]
    before = await applied_count(client)

    editor.apply(action.edit)  # the edit, and no command
    rows = await wait_until(lambda: report_rows(client, uri, report_id))
    assert len(rows) == 1
    docstring_line = editor.text(uri).splitlines()[rows[0].range.start.line]
    assert '"""' in docstring_line, "the mark is on the docstring, in the edited text"
    assert await applied_count(client) == before + 1

    # the command, late: nothing is shown or counted twice
    shown = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=action.command.command, arguments=[report_id])
    )
    assert shown is True
    assert len(report_rows(client, uri, report_id)) == 1
    assert await applied_count(client) == before + 1


async def test_an_edit_that_never_arrives_shows_no_report(client: LanguageClient):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    action = await resolved(client, titled(await actions_at(client, uri, 3, 5), DOCSTRING))
    assert action.command is not None
    report_id = action.command.arguments[0]  # type: ignore[index]
    # the person typed something else instead of applying the action
    editor.change(
        uri,
        [
            types.TextEdit(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)), new_text="# x\n"
            )
        ],
    )
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )  # the change has been read
    assert report_rows(client, uri, report_id) == []
