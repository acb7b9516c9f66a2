"""A client that sends an empty `workspace/didChangeConfiguration` (eglot does, right after
every start) keeps the settings it gave as initializationOptions."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import open_doc, wait_until
from tests.lsp.sample_files import PYTHON

PY_URI = "file:///work/project/files.py"


async def test_empty_settings_keep_the_initialization_options(client: LanguageClient, tiny_model):
    for empty in ({}, {"edgewise": {}}):
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=empty)
        )
    open_doc(client, PY_URI, "python", PYTHON)
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=PY_URI),
            position=types.Position(line=6, character=8),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert result is not None and result.items
    session = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )
    assert session["session"]["requests"] == 1
    item = result.items[0]
    assert item.command is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=item.command.command, arguments=item.command.arguments)
    )
    diagnostics = await wait_until(lambda: client.diagnostics.get(PY_URI))
    report = next(d.data for d in diagnostics if d.code == "completion:inline")
    # still the tiny model of the initializationOptions, not the default model
    assert report["model"]["path"] == str(tiny_model)
