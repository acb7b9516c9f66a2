"""Budgets in a real session (tiny model, real pytest-lsp client): the status carries
`budget`, the warning comes once at the threshold, at the limit `atLimit: stop` runs no
model (completions answer nothing, actions are offered disabled with the reason) until
`edgewise.resumeBudget`; where the tokens went (accepted, superseded) is in the ledger;
and `edgewise cost` reads what the session wrote."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp.action_checks import actions_at, resolved, titled
from tests.lsp.conftest import SERVER_ENV, tiny_options, wait_until
from tests.lsp.editor import make_workspace, start_editor

STATE = tempfile.mkdtemp(prefix="edgewise-budget-state-")
BUDGET_SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "edgewise.cli", "serve"],
    server_env={**SERVER_ENV, "EDGEWISE_STATE_DIR": STATE},
)


def inline(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )


async def command(client: LanguageClient, name: str, *arguments: object) -> object:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=list(arguments))
    )


@pytest_lsp.fixture(config=BUDGET_SERVER)
async def client(lsp_client: LanguageClient, tiny_model, tmp_path):
    root = make_workspace(tmp_path / "project")
    options = tiny_options(tiny_model, threads=1)
    lsp_client.options = options  # type: ignore[attr-defined]
    lsp_client.editor = await start_editor(lsp_client, "visual-studio-code", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def warnings(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Warning]


async def test_a_budget_crossed_in_a_session_warns_then_pauses_until_resumed(
    client: LanguageClient,
):
    editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    first = await client.text_document_inline_completion_async(inline(uri, 4, 8))
    assert first is not None and first.items, "no budget yet: the model runs"
    costs = await command(client, "edgewise.costReport")
    used = costs["session"]["tokens_prompt"] + costs["session"]["tokens_completion"]
    assert costs["budget"] is None and used > 0

    # accepting the suggestion: where the tokens went says so
    item = first.items[0]
    assert item.command is not None
    await command(client, item.command.command, *(item.command.arguments or []))
    costs = await command(client, "edgewise.costReport")
    assert costs["session"]["outcomes"]["accepted"]["requests"] == 1
    assert costs["session"]["accepted_lines"] >= 1
    assert costs["session"]["cost_per_accepted_line"] is not None

    # a weekly token budget this session has used 80 % of: a warning, once
    weekly = used / 0.8
    budget = {"unit": "tokens", "weekly": weekly, "warnAtPercent": 75, "atLimit": "stop"}
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={**client.options, "budget": budget})  # type: ignore[attr-defined]
    )
    warned = await wait_until(
        lambda: [s for s in client.status_updates if s.get("budget")][-1:]  # type: ignore[attr-defined]
    )
    assert warned[-1]["budget"] == {"text": "this week: 80 % of budget", "level": "warn",
                                    "percent": 80.0}  # fmt: skip
    said = await wait_until(lambda: [w for w in warnings(client) if "budget" in w])
    assert said == [f"edgewise: this week: 80 % of the budget used ({used:,} tokens of "
                    f"{weekly:,.0f} tokens)"]  # fmt: skip
    assert (await client.text_document_inline_completion_async(inline(uri, 9, 4))).items, (
        "warned, still running"
    )  # and over the limit now
    status = await wait_until(
        lambda: [
            s
            for s in client.status_updates  # type: ignore[attr-defined]
            if (s.get("budget") or {}).get("level") == "limit"
        ]
    )
    assert status[-1]["budget"]["text"].startswith("this week: ")
    assert status[-1]["budget"]["text"].endswith("% of budget (model paused)")
    said = await wait_until(lambda: [w for w in warnings(client) if "used up" in w])
    assert len(said) == 1 and "this week's budget is used up" in said[0]
    assert "the model is paused until" in said[0] and "edgewise.resumeBudget" in said[0]

    # the chosen behaviour: no model runs; completions answer nothing, actions say why
    before = (await command(client, "edgewise.costReport"))["session"]["requests"]
    paused = await client.text_document_inline_completion_async(inline(uri, 14, 8))
    assert paused is not None and not paused.items
    action = await resolved(
        client, titled(await actions_at(client, uri, 3, 5), "Add docstring (edgewise)")
    )
    assert action.edit is None and action.disabled is not None
    assert "budget is used up" in action.disabled.reason
    assert (await command(client, "edgewise.costReport"))["session"]["requests"] == before

    # the user says go on
    said = await command(client, "edgewise.resumeBudget")
    assert "running again past the budget" in str(said)
    again = await client.text_document_inline_completion_async(inline(uri, 14, 8))
    assert again is not None and again.items, "resumed: the model runs again"
    costs = await command(client, "edgewise.costReport")
    assert costs["session"]["requests"] == before + 1
    assert costs["budget"]["text"].endswith("(resumed)")
    assert costs["summary"]["week"]["totals"]["requests"] == costs["session"]["requests"]

    # `edgewise cost` reads the ledger this session wrote: the same figures
    log = Path(costs["log"])
    out = subprocess.run(
        [sys.executable, "-m", "edgewise.cli", "cost", "--log", str(log), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = json.loads(out.stdout)
    week = figures["week"]["totals"]
    session = costs["session"]
    assert week["requests"] == session["requests"]
    assert week["tokens_prompt"] == session["tokens_prompt"]
    assert week["outcomes"]["accepted"] == session["outcomes"]["accepted"]
    assert week["total_cost"] == session["total_cost"]
    text = subprocess.run(
        [sys.executable, "-m", "edgewise.cli", "cost", "--log", str(log)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    (row,) = [line for line in text.splitlines() if line.startswith("requests ")]
    assert row.split()[1:] == [str(session["requests"])] * 2, "this week = this month"
    assert "suggestions accepted" in text and "per accepted line" in text
    assert "Break-even at the last 30 days' usage" in text
