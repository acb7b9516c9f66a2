"""End to end through a real LSP client: completion, the docstring action, the report."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import llama_cpp
from lsprotocol import types
from pytest_lsp import LanguageClient

from edgewise.schemas import load_schema
from tests.lsp.conftest import open_doc, wait_until
from tests.lsp.sample_files import PYTHON, TYPESCRIPT

PY_URI = "file:///work/project/files.py"
TS_URI = "file:///work/project/stack.ts"


def count_tokens(model: Path, text: str) -> int:
    vocab = llama_cpp.Llama(str(model), vocab_only=True, verbose=False)
    return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def apply_edit(text: str, edit: types.TextEdit) -> str:
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: edit.range.start.line]) + edit.range.start.character
    end = sum(len(line) for line in lines[: edit.range.end.line]) + edit.range.end.character
    return text[:start] + edit.new_text + text[end:]


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None
    if action.edit.document_changes:
        return [e for dc in action.edit.document_changes for e in dc.edits]  # type: ignore[union-attr]
    assert action.edit.changes is not None
    return list(action.edit.changes[uri])


async def test_inline_completion_returns_model_text_with_report(client: LanguageClient, tiny_model):
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
    assert result is not None and result.items, "the model produced a suggestion"
    item = result.items[0]
    assert isinstance(item.insert_text, str) and item.insert_text
    assert item.command is not None and item.command.command == "edgewise.inlineAccepted"

    sent = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    assert sent["kind"] == "completion"
    assert sent["prompt_tokens"] == count_tokens(tiny_model, sent["text"])

    # accepting the suggestion: the client runs the item's command
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=item.command.command, arguments=item.command.arguments)
    )
    diagnostics = await wait_until(lambda: client.diagnostics.get(PY_URI))
    summary = [d for d in diagnostics if d.source == "edgewise" and d.code == "completion:inline"]
    assert summary, diagnostics
    report = summary[0].data
    jsonschema.validate(report, load_schema("report"))
    assert report["tokens"]["prompt"] == sent["prompt_tokens"]
    assert report["tokens"]["completion"] >= 1
    assert report["prompt_format"] == "fim"
    assert report["range"]["start"] == {"line": 6, "character": 8}
    assert "prompt +" in summary[0].message and "confidence" in summary[0].message
    assert 0.0 <= report["confidence"]["score"] <= 1.0


async def test_docstring_action_resolves_to_an_edit_and_reports(client: LanguageClient, tiny_model):
    open_doc(client, PY_URI, "python", PYTHON)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=PY_URI),
            range=types.Range(start=types.Position(4, 6), end=types.Position(4, 6)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    titles = [a.title for a in actions or [] if isinstance(a, types.CodeAction)]
    assert "Add docstring (edgewise)" in titles
    action = next(
        a
        for a in actions
        if isinstance(a, types.CodeAction) and a.title.startswith("Add docstring")
    )
    if action.edit is None:  # the client resolves lazily
        action = await client.code_action_resolve_async(action)
    assert action.disabled is None, action.disabled
    edits = edits_of(action, PY_URI)
    assert len(edits) == 1
    edit = edits[0]
    # the docstring goes at the top of list_files' body, inside the document
    assert edit.range.start == types.Position(4, 0) == edit.range.end
    assert edit.new_text.startswith('    """')
    new_text = apply_edit(PYTHON, edit)
    compile(new_text, "files.py", "exec")  # the edited file still parses as Python

    sent = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=PY_URI, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)
            ],
        )
    )
    assert action.command is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    diagnostics = await wait_until(lambda: client.diagnostics.get(PY_URI))
    summary = [d for d in diagnostics if d.source == "edgewise" and d.code == "action:docstring"]
    assert summary
    report = summary[0].data
    jsonschema.validate(report, load_schema("report"))
    assert report["verified"]["syntax_ok"] is True
    assert (
        report["tokens"]["prompt"]
        == sent["prompt_tokens"]
        == count_tokens(tiny_model, sent["text"])
    )
    assert report["model"]["name"] == "edgewise-tiny-random"
    assert len(report["model"]["sha256"]) == 64
    assert summary[0].range.start == types.Position(4, 0)
    hints = [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Hint]
    assert len(hints) == len(report["confidence"]["low_spans"])
    for hint in hints:
        assert hint.message.startswith("model unsure here: p=")


async def test_typescript_gets_a_jsdoc_comment(client: LanguageClient):
    open_doc(client, TS_URI, "typescript", TYPESCRIPT)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=TS_URI),
            range=types.Range(start=types.Position(1, 4), end=types.Position(1, 4)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(
        a
        for a in actions
        if isinstance(a, types.CodeAction) and a.title.startswith("Add docstring")
    )
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    assert action.disabled is None, action.disabled
    (edit,) = edits_of(action, TS_URI)
    assert edit.range.start == types.Position(0, 0)
    assert edit.new_text.startswith("/**\n") and edit.new_text.endswith(" */\n")


async def test_same_request_twice_gives_the_same_text_and_counts(client: LanguageClient):
    open_doc(client, PY_URI, "python", PYTHON)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=PY_URI),
        position=types.Position(line=17, character=8),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )
    first = await client.text_document_inline_completion_async(params)
    sent_first = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    second = await client.text_document_inline_completion_async(params)
    sent_second = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    assert [i.insert_text for i in first.items] == [i.insert_text for i in second.items]
    assert sent_first["text"] == sent_second["text"]
    assert sent_first["prompt_tokens"] == sent_second["prompt_tokens"]
