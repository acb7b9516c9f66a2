"""Code actions whose edits a real model gets through the gate: SmolLM2-135M-Instruct
(the packaged offline model) in real llama.cpp. Its replies are weak but greedy and
reproducible; what is tested is the edit around them: a new test file created in the
project's convention or appended to, CRLF kept, the rewrite applied by the server with
workspace/applyEdit, and a cancellable progress that stops the model between tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import jsonschema
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from edgewise.schemas import load_schema
from tests.lsp.action_checks import actions_at, check_applies, parses, resolved, titled
from tests.lsp.conftest import PROFILES, SERVER, wait_until
from tests.lsp.editor import (
    Editor,
    changed_region,
    created,
    edits_by_uri,
    line_of,
    make_workspace,
    start_editor,
)

UNIT_TEST = "Generate a unit test (edgewise)"


def real_options(model: Path, **extra: object) -> dict:
    return {
        "model": str(model),
        "debounceMs": 0,
        "contextLength": 2048,
        "threads": 1,
        "actionMaxTokens": 160,
        **extra,
    }


@pytest_lsp.fixture(config=SERVER, params=PROFILES)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient, smollm2, tmp_path):
    root = make_workspace(tmp_path / "project")
    lsp_client.editor = await start_editor(lsp_client, request.param, real_options(smollm2), root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def editor_of(client: LanguageClient) -> Editor:
    return client.editor  # type: ignore[attr-defined]


async def test_unit_test_goes_into_a_new_file_then_is_appended(client: LanguageClient, smollm2):
    editor = editor_of(client)
    source = editor.open("geometry.py", "python")
    source_before = editor.text(source)
    test_file = editor.root / "tests" / "test_geometry.py"
    assert not test_file.exists()

    action = await resolved(client, titled(await actions_at(client, source, 3, 5), UNIT_TEST))
    assert action.disabled is None, action.disabled
    assert action.edit is not None
    assert created(action.edit) == [test_file.as_uri()], "CreateFile, in the project's tests/"
    assert list(edits_by_uri(action.edit)) == [test_file.as_uri()]
    editor.apply(action.edit)
    first = test_file.read_text("utf-8")
    assert first.startswith("from geometry import area\n\n\ndef test_area():\n")
    assert parses(first, "python")
    assert editor.text(source) == source_before, "the source file is not touched"
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    diagnostics = await wait_until(lambda: client.diagnostics.get(test_file.as_uri()))
    report = next(d.data for d in diagnostics if d.code == "action:test")
    jsonschema.validate(report, load_schema("report"))
    assert report["uri"] == test_file.as_uri() and report["verified"]["syntax_ok"] is True
    assert report["context"]["created"] is True

    # again, for the method of the class: SmolLM2's test calls `scale` as a bare name,
    # which the project's checkers (ruff) refuse, twice
    action = await resolved(client, titled(await actions_at(client, source, 17, 10), UNIT_TEST))
    assert action.disabled is not None and action.edit is None
    assert "F821 Undefined name `scale` (ruff)" in action.disabled.reason
    assert action.data["report"]["verified"]["gate"] == "checks"
    # with the checkers gate off, the same test is appended to the file that now exists
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={**real_options(smollm2), "checks": {"tools": []}}
        )
    )
    action = await resolved(client, titled(await actions_at(client, source, 17, 10), UNIT_TEST))
    assert action.disabled is None, action.disabled
    assert created(action.edit) == []
    assert list(edits_by_uri(action.edit)) == [test_file.as_uri()]
    editor.apply(action.edit)
    second = test_file.read_text("utf-8")
    head = "from geometry import area\n"
    kept = head + "from geometry import Rectangle\n" + first[len(head) :]
    assert second.startswith(kept), "the import it needs at the top, all else byte-identical"
    assert second[len(kept) :].startswith("\n\ndef test_rectangle_scale():\n    ")
    assert parses(second, "python")


@pytest_lsp.fixture(config=SERVER)
async def vscode(lsp_client: LanguageClient, smollm2, tmp_path):
    root = make_workspace(tmp_path / "project")
    options = real_options(smollm2)
    lsp_client.editor = await start_editor(lsp_client, "visual-studio-code", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.mark.parametrize(
    "relative,line,column,expected",
    [
        ("web/shapes.ts", 0, 18, "web/shapes.test.ts"),
        ("web/format.js", 0, 18, "web/format.test.js"),
    ],
)
async def test_typescript_and_javascript_tests_next_to_the_source_with_node_test(
    vscode: LanguageClient, relative: str, line: int, column: int, expected: str
):
    client = vscode
    editor = editor_of(client)
    language = "typescript" if relative.endswith(".ts") else "javascript"
    source = editor.open(relative, language)
    action = await resolved(
        client, titled(await actions_at(client, source, line, column), UNIT_TEST)
    )
    assert action.disabled is None, action.disabled
    target = editor.root / expected
    assert created(action.edit) == [target.as_uri()]
    editor.apply(action.edit)
    text = target.read_text("utf-8")
    stem = Path(relative).stem
    specifier = f"./{stem}" if language == "typescript" else f"./{stem}.js"
    assert text.startswith(
        'import { test } from "node:test";\nimport assert from "node:assert/strict";\n'
    )
    assert f'from "{specifier}";' in text
    assert parses(text, language)


async def test_jsdoc_types_from_the_model_are_placed_above_the_function(vscode: LanguageClient):
    client = vscode
    editor = editor_of(client)
    uri = editor.open("web/format.js", "javascript")
    action = titled(await actions_at(client, uri, 0, 18), "Add JSDoc types (edgewise)")
    action = await resolved(client, action)
    after = check_applies(editor, action, uri, "javascript", (0, 0))
    header = after.split("export function label")[0]
    assert header.startswith("/**\n") and header.endswith(" */\n")
    assert "@param {" in header and "} name\n" in header


async def test_rewrite_command_applies_a_verified_edit_to_a_crlf_file(vscode: LanguageClient):
    client = vscode
    editor = editor_of(client)
    text = (editor.root / "geometry.py").read_text().replace("\n", "\r\n")
    uri = editor.open("geometry.py", "python", text)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="edgewise.rewrite",
            arguments=[
                {
                    "uri": uri,
                    "range": {
                        "start": {"line": 13, "character": 0},
                        "end": {"line": 15, "character": 28},
                    },
                    "instruction": "use a while loop",
                }
            ],
        )
    )
    assert result["applied"] is True, result.get("reason")
    after = editor.text(uri)
    assert after.count("\n") == after.count("\r\n"), "CRLF kept"
    start, end = changed_region(text, after)
    assert 13 <= line_of(text, start) and line_of(text, end) <= 15
    assert parses(after, "python")
    rewritten = after.split("\r\n")[13]
    assert rewritten.startswith("    ") and not rewritten.startswith("     "), "class indentation"
    diagnostics = await wait_until(lambda: client.diagnostics.get(uri))
    summary = next(d for d in diagnostics if d.code == "action:rewrite")
    assert summary.range.start == types.Position(13, 0)
    assert summary.data["id"] == result["report"]["id"]


async def test_cancelling_the_progress_stops_the_model_between_tokens(vscode: LanguageClient):
    client = vscode
    editor = editor_of(client)
    uri = editor.open("geometry.py", "python")
    arguments = [
        {
            "uri": uri,
            "range": {"start": {"line": 17, "character": 4}, "end": {"line": 17, "character": 4}},
        }
    ]
    full = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.explain", arguments=arguments)
    )
    generated = full["report"]["tokens"]["completion"]
    assert generated > 20, "an explanation long enough to cancel"
    seen = set(client.progress_reports)

    request = asyncio.ensure_future(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="edgewise.explain", arguments=arguments)
        )
    )
    token = await wait_until(lambda: next(iter(set(client.progress_reports) - seen), None))
    await wait_until(
        lambda: any(
            isinstance(v, types.WorkDoneProgressReport) and "generating" in (v.message or "")
            for v in client.progress_reports[token]
        )
    )
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await request
    report = result["report"]
    assert result["shown"] is None and "cancelled" in result["reason"]
    assert report["stop_reason"] == "cancelled"
    assert report["tokens"]["completion"] < generated, "stopped before the reply was done"
    assert report["tokens"]["cached"] > 0, "the same prompt again reused the KV cache"
    end = client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == "cancelled"

    # $/cancelRequest of the command itself: the request is cancelled, and the model
    # stops at once -- the next request does not wait for the rest of the reply
    seen = set(client.progress_reports)
    cancelled = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="edgewise.explain", arguments=arguments),
            msg_id="explain-to-cancel",
        )
    )
    token = await wait_until(lambda: next(iter(set(client.progress_reports) - seen), None))
    await wait_until(lambda: len(client.progress_reports[token]) >= 2)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="explain-to-cancel"))
    with pytest.raises(Exception, match="cancel"):
        await cancelled
    after = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.explain", arguments=arguments)
    )
    waited = after["report"]["time_ms"]["queue"]
    assert waited < full["report"]["time_ms"]["total"] / 2, "the cancelled reply did not run on"


@pytest_lsp.fixture(config=SERVER)
async def prefix_prompts(lsp_client: LanguageClient, smollm2, tmp_path):
    """SmolLM2 asked as a model without a chat template is asked (a base model)."""
    root = make_workspace(tmp_path / "project")
    options = real_options(smollm2, actionPrompt="prefix")
    lsp_client.editor = await start_editor(lsp_client, "neovim", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_without_its_chat_template_the_docstring_is_written_where_it_goes(
    prefix_prompts: LanguageClient,
):
    editor = editor_of(prefix_prompts)
    uri = editor.open("geometry.py", "python")
    action = await resolved(
        prefix_prompts,
        titled(await actions_at(prefix_prompts, uri, 3, 5), "Add docstring (edgewise)"),
    )
    after = check_applies(editor, action, uri, "python", (4, 4))
    docstring = after.splitlines()[4]
    # the model continued `def area(width, height):\n    """` with what the function does
    assert docstring.startswith('    """') and "area" in docstring.lower(), docstring
