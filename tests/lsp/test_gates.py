"""The gates after the syntax gate, through real LSP code actions: the project's own
checkers (ruff, as found in the environment) and the test guard. The model's reply text
is crafted (tests/lsp/crafted_server.py); the tiny model, llama.cpp, tree-sitter and ruff
are real."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from edgewise.schemas import load_schema
from tests.lsp.action_checks import actions_at, last_prompt, resolved, titled
from tests.lsp.conftest import SERVER_ENV, tiny_options, wait_until
from tests.lsp.crafted_server import REPLIES_ENV
from tests.lsp.editor import Editor, make_workspace, start_editor

UNDEFINED = "def area(width, height):\n    return multiply(width, height)\n"
VALID = "def area(width, height):\n    return height * width\n"
CHECKED = 'def ratio(a, b):\n    assert b != 0, "b must not be zero"\n    return a / b\n'
NO_ASSERT = "def ratio(a, b):\n    return a / b\n"
SKIPPED_TEST = (
    "```python\nimport pytest\n\n\n@pytest.mark.skip\ndef test_area():\n"
    "    assert area(2, 3) == 6\n```\n"
)


@pytest.fixture
async def serve(tiny_model: Any, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Starts the crafted-reply server for one test with the replies and settings given."""
    from pytest_lsp.client import make_test_lsp_client

    clients: list[LanguageClient] = []

    async def start(replies: list[str], **settings: Any) -> tuple[LanguageClient, Editor]:
        client = make_test_lsp_client()
        clients.append(client)
        env = {**SERVER_ENV, REPLIES_ENV: json.dumps(replies)}
        await client.start_io(sys.executable, "-m", "tests.lsp.crafted_server", env=env)
        root = make_workspace(tmp_path / f"project{len(clients)}")
        options = tiny_options(tiny_model, threads=1, **settings)
        editor = await start_editor(client, "neovim", options, root)
        return client, editor

    yield start
    for client in clients:
        await client.shutdown_session()
        await client.stop()


async def simplify(client: LanguageClient, uri: str, line: int) -> types.CodeAction:
    action = titled(await actions_at(client, uri, line, 5), "Simplify (edgewise)")
    return await resolved(client, action)


async def test_an_undefined_name_is_regenerated_with_ruffs_message_then_offered(serve: Any):
    client, editor = await serve([UNDEFINED, VALID])
    uri = editor.open("geometry.py", "python")
    action = await simplify(client, uri, 3)
    assert action.disabled is None and action.edit is not None
    retry = await last_prompt(client)
    assert "Your previous reply could not be used: the project's checkers report" in retry["text"]
    assert "F821 Undefined name `multiply` (ruff)" in retry["text"], "ruff's message, in the prompt"
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    diagnostics = await wait_until(
        lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "action:simplify"]
    )
    verified = diagnostics[0].data["verified"]
    assert verified["attempts"] == 2 and "gate" not in verified
    assert [c["new"] for c in verified["checks"] if c["tool"] == "ruff"] == [[]]
    assert "checked with ruff" in verified["reason"]


async def test_an_undefined_name_twice_is_offered_disabled_with_line_and_rule(serve: Any):
    client, editor = await serve([UNDEFINED])
    uri = editor.open("geometry.py", "python")
    before = editor.text(uri)
    action = await simplify(client, uri, 3)
    assert action.edit is None and action.disabled is not None
    reason = action.disabled.reason
    assert "new problem(s): line 5: F821 Undefined name `multiply` (ruff)" in reason
    assert "after 2 attempts" in reason
    report = action.data["report"]
    jsonschema.validate(report, load_schema("report"))
    verified = report["verified"]
    assert verified["gate"] == "checks" and verified["syntax_ok"] is True
    ruff = next(c for c in verified["checks"] if c["tool"] == "ruff")
    assert ruff["status"] == "ran" and ruff["version"].startswith("ruff ")
    assert ruff["problems_after"] == ruff["problems_before"] + 1
    assert ruff["new"] == [{"line": 5, "rule": "F821", "message": "Undefined name `multiply`"}]
    assert ruff["ms"] >= 0
    mypy = next(c for c in verified["checks"] if c["tool"] == "mypy")
    assert mypy["status"] == "not-configured", "mypy runs only where the project sets it up"
    eslint = [c for c in verified["checks"] if c["tool"] == "eslint"]
    assert eslint == [], "JavaScript checkers are not considered for Python"
    assert verified["tests"] == {"ok": True, "allowed": False, "findings": []}
    assert editor.text(uri) == before


async def test_a_deleted_assert_is_refused_unless_allowed(serve: Any):
    client, editor = await serve([NO_ASSERT])
    uri = editor.open("checked.py", "python", CHECKED)
    action = await simplify(client, uri, 0)
    assert action.edit is None and action.disabled is not None
    assert "the edit weakens the tests: it removes or changes the check" in action.disabled.reason
    assert '`assert b != 0, "b must not be zero"` (line 2)' in action.disabled.reason
    report = action.data["report"]
    jsonschema.validate(report, load_schema("report"))
    assert report["verified"]["gate"] == "tests"
    assert report["verified"]["tests"]["ok"] is False
    assert "checks" not in report["verified"], "the checkers do not run on a refused edit"

    allowed, editor2 = await serve([NO_ASSERT], allowTestChanges=True)
    uri2 = editor2.open("checked.py", "python", CHECKED)
    action = await simplify(allowed, uri2, 0)
    assert action.disabled is None and action.edit is not None
    editor2.apply(action.edit)
    assert "assert" not in editor2.text(uri2)


async def test_a_generated_test_that_adds_a_skip_is_refused(serve: Any):
    client, editor = await serve([SKIPPED_TEST])
    uri = editor.open("geometry.py", "python")
    action = titled(await actions_at(client, uri, 3, 5), "Generate a unit test (edgewise)")
    action = await resolved(client, action)
    assert action.edit is None and action.disabled is not None
    assert "it adds `pytest.mark.skip`" in action.disabled.reason
    assert action.data["report"]["verified"]["gate"] == "tests"


async def test_extra_samples_that_agree_are_reported_beside_the_confidence(serve: Any):
    same_tree = "def area(width, height):\n    # the product\n    return height*width\n"
    client, editor = await serve([VALID, same_tree, VALID], actionSamples=3)
    uri = editor.open("geometry.py", "python")
    action = await simplify(client, uri, 3)
    assert action.title == "Simplify (edgewise)" and action.edit is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    diagnostics = await wait_until(
        lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "action:simplify"]
    )
    report = diagnostics[0].data
    jsonschema.validate(report, load_schema("report"))
    agreement = report["confidence"]["agreement"]
    assert agreement["samples"] == 3 and agreement["agreeing"] == 2
    assert agreement["score"] == 1.0 and agreement["unsure"] is False
    assert agreement["method"] == "text or tree" and agreement["seeds"] == [43, 44]
    assert agreement["temperature"] == 0.7
    assert report["verified"]["attempts"] == 1, "extra samples are not attempts"
    assert "2 of 2 other samples agree" in diagnostics[0].message


async def test_extra_samples_that_disagree_mark_the_action_unsure(serve: Any):
    other = "def area(width, height):\n    return (width + height) * 2\n"
    renamed = "def area(w, h):\n    return w * h\n"
    client, editor = await serve([VALID, other, renamed], actionSamples=3)
    uri = editor.open("geometry.py", "python")
    action = await simplify(client, uri, 3)
    assert action.edit is not None, "unsure is said, not refused"
    assert action.title == "Simplify (edgewise) (unsure: 0 of 2 other samples agree)"
    editor.apply(action.edit)
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    diagnostics = await wait_until(
        lambda: [d for d in client.diagnostics.get(uri, []) if d.code == "action:simplify"]
    )
    report = diagnostics[0].data
    assert report["confidence"]["agreement"]["unsure"] is True
    assert "unsure: 0 of 2 other samples agree" in report["verified"]["reason"]
    assert "height * width" in editor.text(uri), "the offered text is the first sample's"


async def test_the_rewrite_command_refuses_an_edit_the_checkers_reject(serve: Any):
    client, editor = await serve([UNDEFINED])
    uri = editor.open("geometry.py", "python")
    before = editor.text(uri)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="edgewise.rewrite",
            arguments=[
                {
                    "uri": uri,
                    "range": {
                        "start": {"line": 3, "character": 0},
                        "end": {"line": 5, "character": 0},
                    },
                    "instruction": "use a helper",
                }
            ],
        )
    )
    assert result["applied"] is False
    assert "F821 Undefined name `multiply` (ruff)" in result["reason"]
    assert result["report"]["verified"]["gate"] == "checks"
    assert editor.applied == [] and editor.text(uri) == before
