"""Every code action end to end through a real LSP client, on small real Python,
TypeScript and JavaScript files, with real llama.cpp inference on the tiny model.

The tiny model's text is noise: prose actions (docstrings, explain) turn it into an
edit or a document; code actions must never offer noise as an edit -- they come back
disabled with the reason, after one stricter retry, with their report."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import jsonschema
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from edgewise.schemas import load_schema
from tests.lsp.action_checks import (
    actions_at,
    check_applies,
    check_progress,
    check_rejected,
    last_prompt,
    parses,
    resolved,
    titled,
)
from tests.lsp.conftest import PROFILES, SERVER, tiny_options, wait_until
from tests.lsp.editor import Editor, edits_by_uri, make_workspace, start_editor

DOCSTRING = "Add docstring (edgewise)"
MODULE_DOC = "Add module docstring (edgewise)"
ANNOTATE = "Add type annotations (edgewise)"
RETURN_TYPE = "Add explicit return type (edgewise)"
JSDOC_TYPES = "Add JSDoc types (edgewise)"
SIMPLIFY = "Simplify (edgewise)"
EXPLAIN = "Explain (edgewise)"
UNIT_TEST = "Generate a unit test (edgewise)"


def options(model: Path) -> dict:
    return tiny_options(model, threads=1)


@pytest_lsp.fixture(config=SERVER, params=PROFILES)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient, tiny_model, tmp_path):
    root = make_workspace(tmp_path / "project")
    lsp_client.editor = await start_editor(lsp_client, request.param, options(tiny_model), root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def editor_of(client: LanguageClient) -> Editor:
    return client.editor  # type: ignore[attr-defined]


async def applied(
    client: LanguageClient,
    action: types.CodeAction,
    uri: str,
    language: str,
    lines: tuple[int, int],
) -> str:
    """A verified edit inside its lines; the edited text."""
    return check_applies(editor_of(client), await resolved(client, action), uri, language, lines)


async def refused_after_retry(client: LanguageClient, action: types.CodeAction) -> None:
    """Noise as code: disabled with the reason, after one stricter retry, both counted."""
    report = check_rejected(await resolved(client, action))
    sent = await last_prompt(client)
    assert "Your previous reply could not be used" in sent["text"], "the retry is stricter"
    assert report["tokens"]["prompt"] > sent["prompt_tokens"], "both attempts are counted"


async def test_python_actions_are_offered_where_they_apply_and_verified(client: LanguageClient):
    editor = editor_of(client)
    uri = editor.open("geometry.py", "python")

    at_import = {a.title for a in await actions_at(client, uri, 0, 3)}
    assert at_import == {MODULE_DOC, EXPLAIN}
    in_area = {a.title for a in await actions_at(client, uri, 3, 5)}
    assert in_area == {DOCSTRING, ANNOTATE, SIMPLIFY, EXPLAIN, UNIT_TEST}
    on_class = {a.title for a in await actions_at(client, uri, 12, 8)}
    assert UNIT_TEST not in on_class and ANNOTATE not in on_class and DOCSTRING in on_class

    actions = await actions_at(client, uri, 3, 5)
    # a docstring is prose: the tiny model's text becomes one
    after = await applied(client, titled(actions, DOCSTRING), uri, "python", (4, 4))
    assert after.splitlines()[4].startswith('    """')
    module = titled(await actions_at(client, uri, 0, 3), MODULE_DOC)
    after = await applied(client, module, uri, "python", (0, 0))
    assert after.startswith('"""')
    assert after.endswith(editor.text(uri)), "the module docstring only adds lines on top"
    await refused_after_retry(client, titled(actions, ANNOTATE))
    await refused_after_retry(client, titled(actions, SIMPLIFY))
    check_progress(client)


async def test_typescript_and_javascript_actions(client: LanguageClient):
    editor = editor_of(client)
    uri = editor.open("web/shapes.ts", "typescript")
    on_function = {a.title for a in await actions_at(client, uri, 0, 18)}
    assert on_function == {DOCSTRING, RETURN_TYPE, SIMPLIFY, EXPLAIN, UNIT_TEST}
    on_method = {a.title for a in await actions_at(client, uri, 7, 3)}
    assert on_method == {DOCSTRING, RETURN_TYPE, SIMPLIFY, EXPLAIN, UNIT_TEST}
    on_constructor = {a.title for a in await actions_at(client, uri, 5, 5)}
    assert RETURN_TYPE not in on_constructor, "constructors take no return type"
    at_top = {a.title for a in await actions_at(client, uri, 3, 0)}
    assert at_top == {MODULE_DOC}, "a blank line at module level: module doc only"

    actions = await actions_at(client, uri, 7, 3)
    after = await applied(client, titled(actions, DOCSTRING), uri, "typescript", (7, 7))
    assert "  /**\n" in after
    # the tiny model's noise here is one identifier: a valid type, so it is offered
    after = await applied(client, titled(actions, RETURN_TYPE), uri, "typescript", (7, 7))
    assert re.fullmatch(r"  area\(\): \w+ \{", after.splitlines()[7]), after.splitlines()[7]
    await refused_after_retry(client, titled(actions, SIMPLIFY))

    js = editor.open("web/format.js", "javascript")
    js_actions = await actions_at(client, js, 0, 18)
    assert {a.title for a in js_actions} == {DOCSTRING, JSDOC_TYPES, SIMPLIFY, EXPLAIN, UNIT_TEST}
    await refused_after_retry(client, titled(js_actions, JSDOC_TYPES))
    check_progress(client)


async def test_fix_is_offered_for_other_servers_diagnostics_with_them_in_the_prompt(
    client: LanguageClient,
):
    editor = editor_of(client)
    uri = editor.open("geometry.py", "python")
    lint = types.Diagnostic(
        range=types.Range(start=types.Position(8, 4), end=types.Position(8, 9)),
        message="Local variable `value` is assigned to but never used",
        code="F841",
        source="ruff",
        severity=types.DiagnosticSeverity.Warning,
    )
    ours = types.Diagnostic(
        range=types.Range(start=types.Position(8, 4), end=types.Position(8, 9)),
        message="edgewise: 10 prompt + 2 generated tokens",
        source="edgewise",
    )
    none = await actions_at(client, uri, 8, 5, diagnostics=[ours])
    assert not any(a.kind == "quickfix.edgewise" for a in none), "never our own diagnostics"
    far = await actions_at(client, uri, 3, 5, diagnostics=[])
    assert not any(a.kind == "quickfix.edgewise" for a in far)

    actions = await actions_at(client, uri, 8, 5, diagnostics=[lint, ours])
    fixes = [a for a in actions if a.kind == "quickfix.edgewise"]
    assert len(fixes) == 1
    fix = fixes[0]
    assert fix.title == "Fix with edgewise: Local variable `value` is assigned to but never used"
    assert fix.diagnostics is not None and fix.diagnostics[0].code == "F841"
    await refused_after_retry(client, fix)
    sent = await last_prompt(client)
    assert sent["action"] == "fix"
    assert "Local variable `value` is assigned to but never used" in sent["text"]
    assert "(F841)" in sent["text"] and "ruff reports" in sent["text"]
    assert "value = math.pi * radius ** 2" in sent["text"]


async def test_explain_shows_a_read_only_document_with_its_report(client: LanguageClient):
    editor = editor_of(client)
    uri = editor.open("geometry.py", "python")
    explain = titled(await actions_at(client, uri, 8, 5), EXPLAIN)
    assert explain.edit is None and explain.command is not None
    assert explain.command.command == "edgewise.explain"
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=explain.command.command, arguments=explain.command.arguments
        )
    )
    assert result["shown"] == "document"
    assert [d.uri for d in client.shown_documents] == [result["uri"]]
    shown = Path(result["uri"].removeprefix("file://"))
    assert not os.stat(shown).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    body = shown.read_text("utf-8")
    assert result["text"] in body
    report = result["report"]
    jsonschema.validate(report, load_schema("report"))
    assert report["action"] == "explain" and report["verified"]["syntax_ok"] is None
    assert report["range"] == {
        "start": {"line": 7, "character": 0},
        "end": {"line": 9, "character": 34},
    }, "the explained function"
    assert f"{report['tokens']['prompt']} prompt + {report['tokens']['completion']}" in body
    assert editor.text(uri) == (editor.root / "geometry.py").read_text(), "nothing edited"
    check_progress(client)


async def test_rewrite_command_rejects_noise_and_bad_arguments_change_nothing(
    client: LanguageClient,
):
    editor = editor_of(client)
    assert editor.capabilities is not None
    commands = editor.capabilities.execute_command_provider
    assert commands is not None
    assert {"edgewise.rewrite", "edgewise.explain", "edgewise.costReport"} <= set(
        commands.commands
    ), "clients only run commands the server lists"
    uri = editor.open("geometry.py", "python")
    before = editor.text(uri)
    rng = {"start": {"line": 17, "character": 0}, "end": {"line": 20, "character": 19}}
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="edgewise.rewrite",
            arguments=[{"uri": uri, "range": rng, "instruction": "use a loop over both sides"}],
        )
    )
    if result["applied"]:  # the tiny model happened to write valid Python
        assert parses(editor.text(uri), "python")
    else:
        assert result["reason"] and "after 2 attempts" in result["reason"]
        assert result["report"]["verified"]["syntax_ok"] is False
        assert editor.applied == [] and editor.text(uri) == before
    sent = await last_prompt(client)
    assert sent["action"] == "rewrite" and "use a loop over both sides" in sent["text"]
    assert "def scale(self, factor):" in sent["text"]

    bad = [
        [],
        ["not an object"],
        [{"uri": uri, "range": rng}],
        [{"uri": uri, "range": rng, "instruction": "   "}],
        [{"uri": uri, "range": {"start": {"line": 3}}, "instruction": "x"}],
        [{"uri": "file:///elsewhere/x.py", "range": rng, "instruction": "x"}],
    ]
    for arguments in bad:
        with pytest.raises(Exception) as caught:
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="edgewise.rewrite", arguments=arguments)
            )
        assert "edgewise.rewrite" in str(caught.value)
    assert editor.text(uri) == (before if not result["applied"] else editor.text(uri))
    # the server keeps serving
    assert await actions_at(client, uri, 3, 5)


async def test_crlf_file_keeps_its_line_endings(client: LanguageClient):
    editor = editor_of(client)
    text = (editor.root / "geometry.py").read_text().replace("\n", "\r\n")
    uri = editor.open("geometry.py", "python", text)
    for title, line in ((DOCSTRING, 17), (MODULE_DOC, 0)):
        action = titled(await actions_at(client, uri, line, 5), title)
        action = await resolved(client, action)
        (edit,) = edits_by_uri(action.edit)[uri]  # type: ignore[arg-type]
        assert edit.new_text.count("\n") == edit.new_text.count("\r\n") >= 1
        check_applies(editor, action, uri, "python", (0, 18))


@pytest_lsp.fixture(config=SERVER)
async def messages_only(lsp_client: LanguageClient, tiny_model, tmp_path):
    """A client that cannot show documents (window.showDocument unsupported)."""
    caps = client_capabilities("visual-studio-code")
    assert caps.window is not None
    caps.window.show_document = None
    root = make_workspace(tmp_path / "project")
    lsp_client.editor = await start_editor(  # type: ignore[attr-defined]
        lsp_client, "visual-studio-code", options(tiny_model), root, caps
    )
    yield
    await lsp_client.shutdown_session()


async def test_explain_falls_back_to_a_message(messages_only: LanguageClient):
    editor = editor_of(messages_only)
    uri = editor.open("web/shapes.ts", "typescript")
    explain = titled(await actions_at(messages_only, uri, 1, 5), EXPLAIN)
    assert explain.command is not None
    result = await messages_only.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=explain.command.command, arguments=explain.command.arguments
        )
    )
    assert result["shown"] == "message" and messages_only.shown_documents == []
    shown = await wait_until(
        lambda: [m for m in messages_only.messages if result["text"] in m.message]
    )
    assert "prompt +" in shown[0].message and "confidence" in shown[0].message
