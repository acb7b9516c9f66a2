"""Checks shared by the code-action tests: what a user would notice about an action."""

from __future__ import annotations

from typing import Any

import jsonschema
import tree_sitter_javascript
import tree_sitter_typescript
from lsprotocol import types
from pytest_lsp import LanguageClient
from tree_sitter import Language, Parser

from edgewise.schemas import load_schema
from tests.lsp.editor import Editor, apply_text_edits, changed_region, edits_by_uri, line_of

GRAMMARS = {
    "typescript": Language(tree_sitter_typescript.language_typescript()),
    "javascript": Language(tree_sitter_javascript.language()),
}


def parses(text: str, language: str) -> bool:
    """The file is valid code: CPython compiles Python, tree-sitter parses the rest."""
    if language == "python":
        try:
            compile(text, "<edited>", "exec")
        except SyntaxError:
            return False
        return True
    tree = Parser(GRAMMARS[language]).parse(text.encode("utf-8"))
    return not tree.root_node.has_error


async def actions_at(
    client: LanguageClient,
    uri: str,
    line: int,
    character: int,
    diagnostics: list[types.Diagnostic] | None = None,
    end: tuple[int, int] | None = None,
) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line, character),
                end=types.Position(*(end or (line, character))),
            ),
            context=types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


def titled(actions: list[types.CodeAction], title: str) -> types.CodeAction:
    return next(a for a in actions if a.title == title)


async def resolved(client: LanguageClient, action: types.CodeAction) -> types.CodeAction:
    if action.edit is None and action.disabled is None:
        action = await client.code_action_resolve_async(action)
    return action


async def last_prompt(client: LanguageClient) -> dict[str, Any]:
    sent = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    assert isinstance(sent, dict), sent
    return sent


def check_rejected(action: types.CodeAction) -> dict[str, Any]:
    """A rejected edit: disabled with a reason, its report says so, after one retry."""
    assert action.disabled is not None and action.disabled.reason
    assert action.edit is None
    report = (action.data or {}).get("report")
    assert report is not None, "a disabled action still carries its report"
    jsonschema.validate(report, load_schema("report"))
    assert report["verified"]["syntax_ok"] is False
    assert report["verified"]["reason"] in action.disabled.reason
    assert report["verified"]["attempts"] == 2, "rejected once, regenerated once"
    assert "after 2 attempts" in action.disabled.reason
    return report


def check_applies(
    editor: Editor,
    action: types.CodeAction,
    uri: str,
    language: str,
    lines: tuple[int, int],
) -> str:
    """An offered edit touches only the lines it claims (in ``uri``) and leaves valid
    code; returns the edited text (the buffer is not changed)."""
    assert action.disabled is None, action.disabled
    assert action.edit is not None
    by_uri = edits_by_uri(action.edit)
    assert list(by_uri) == [uri], f"edits only {uri}: {list(by_uri)}"
    before = editor.text(uri)
    after = apply_text_edits(before, by_uri[uri], editor.encoding)
    start, end = changed_region(before, after)
    assert lines[0] <= line_of(before, start) and line_of(before, end) <= lines[1], (
        f"changed lines {line_of(before, start)}-{line_of(before, end)}, claimed {lines}"
    )
    assert parses(after, language), after
    if "\r\n" in before:
        assert after.count("\n") == after.count("\r\n"), "CRLF file keeps CRLF line endings"
    else:
        assert "\r" not in after
    assert action.command is not None and action.command.command == "edgewise.reportApplied"
    return after


def progress_of(client: LanguageClient) -> list[list[Any]]:
    """The work-done progress sequences the client saw (begin ... end)."""
    return [values for values in client.progress_reports.values() if values]


def check_progress(client: LanguageClient) -> None:
    sequences = progress_of(client)
    assert sequences, "long model runs show work-done progress"
    for values in sequences:
        assert isinstance(values[0], types.WorkDoneProgressBegin)
        assert values[0].cancellable is True
        assert isinstance(values[-1], types.WorkDoneProgressEnd)
