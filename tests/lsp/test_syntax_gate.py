"""The syntax gate, proven with a reply that cannot parse: a test double of the backend
replaces only the reply text by code with unbalanced brackets (tests/lsp/unbalanced_server.py).
"""

from __future__ import annotations

import re
import sys

import jsonschema
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from edgewise.schemas import load_schema
from tests.lsp.action_checks import actions_at, check_applies, last_prompt, resolved, titled
from tests.lsp.conftest import PROFILES, SERVER_ENV, tiny_options, wait_until
from tests.lsp.editor import make_workspace, start_editor
from tests.lsp.test_foundation import count_tokens
from tests.lsp.unbalanced_server import VALID

STRICT = re.compile(r"\n\nYour previous reply could not be used:.*?nothing else\.", re.DOTALL)


def config(mode: str) -> ClientServerConfig:
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "tests.lsp.unbalanced_server"],
        server_env={**SERVER_ENV, "EDGEWISE_TEST_UNBALANCED": mode},
    )


@pytest_lsp.fixture(config=config("always"), params=PROFILES)
async def always(request: pytest.FixtureRequest, lsp_client: LanguageClient, tiny_model, tmp_path):
    root = make_workspace(tmp_path / "project")
    options = tiny_options(tiny_model, threads=1)
    lsp_client.editor = await start_editor(lsp_client, request.param, options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=config("once"), params=PROFILES)
async def once(request: pytest.FixtureRequest, lsp_client: LanguageClient, tiny_model, tmp_path):
    root = make_workspace(tmp_path / "project")
    options = tiny_options(tiny_model, threads=1)
    lsp_client.editor = await start_editor(lsp_client, request.param, options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_unbalanced_brackets_are_offered_disabled_with_the_reason(
    always: LanguageClient, tiny_model
):
    editor = always.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    before = editor.text(uri)
    action = titled(await actions_at(always, uri, 3, 5), "Simplify (edgewise)")
    action = await resolved(always, action)
    assert action.edit is None
    assert action.disabled is not None
    assert "syntax error" in action.disabled.reason and "(python)" in action.disabled.reason
    assert "after 2 attempts" in action.disabled.reason
    report = action.data["report"]
    jsonschema.validate(report, load_schema("report"))
    assert report["verified"] == {
        "syntax_ok": False,
        "reason": action.disabled.reason,
        "attempts": 2,
        "gate": "syntax",
    }
    retry = await last_prompt(always)
    assert "Your previous reply could not be used: the edit adds" in retry["text"]
    first = STRICT.sub("", retry["text"])
    assert first != retry["text"]
    both = count_tokens(tiny_model, first) + retry["prompt_tokens"]
    assert report["tokens"]["prompt"] == both, "the report counts both attempts' tokens"
    assert editor.text(uri) == before, "nothing was applied"

    # the rewrite command refuses to apply it, and says why
    result = await always.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="edgewise.rewrite",
            arguments=[
                {
                    "uri": uri,
                    "range": {
                        "start": {"line": 3, "character": 0},
                        "end": {"line": 4, "character": 0},
                    },
                    "instruction": "multiply in the other order",
                }
            ],
        )
    )
    assert result["applied"] is False and "syntax error" in result["reason"]
    assert editor.applied == [] and editor.text(uri) == before


async def test_a_broken_first_reply_is_regenerated_once_and_both_are_counted(
    once: LanguageClient, tiny_model
):
    editor = once.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    action = titled(await actions_at(once, uri, 3, 5), "Simplify (edgewise)")
    action = await resolved(once, action)
    after = check_applies(editor, action, uri, "python", (3, 4))
    assert VALID.rstrip("\n") in after
    editor.apply(action.edit)
    await once.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    await wait_until(lambda: once.diagnostics.get(uri))
    retry = await last_prompt(once)
    assert "Your previous reply could not be used" in retry["text"]
    status = once.status_updates[-1]  # type: ignore[attr-defined]
    report_id = status["last"]["id"]
    cost = await once.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )
    assert cost["session"]["actions"] == 1
    both = count_tokens(tiny_model, STRICT.sub("", retry["text"])) + retry["prompt_tokens"]
    assert cost["session"]["tokens_prompt"] == both, "two model calls, both counted"
    diagnostics = once.diagnostics.get(uri) or []
    summary = [d for d in diagnostics if d.code == "action:simplify"]
    assert summary and summary[0].data["id"] == report_id
    assert summary[0].data["verified"]["attempts"] == 2
    assert summary[0].data["verified"]["syntax_ok"] is True
