"""Confidence the user can see (Hint diagnostics exactly on the unsure characters, gone
when the user edits them; minConfidence hides completions and says how many) and the
cost ledger through LSP (edgewise.costReport for the session and for today, from the
JSON Lines log; edgewise/status consistent with it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from edgewise.config import Settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from tests.lsp.action_checks import actions_at, resolved, titled
from tests.lsp.conftest import PROFILES, SERVER, SERVER_ENV, tiny_options, wait_until
from tests.lsp.editor import make_workspace, offset_of, start_editor

LEDGER_STATE = tempfile.mkdtemp(prefix="edgewise-ledger-state-")
LEDGER_SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "edgewise.cli", "serve"],
    server_env={**SERVER_ENV, "EDGEWISE_STATE_DIR": LEDGER_STATE},
)


def inline(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )


async def cost_report(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )


@pytest_lsp.fixture(config=SERVER, params=PROFILES)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient, tiny_model, tmp_path):
    root = make_workspace(tmp_path / "project")
    options = tiny_options(tiny_model, threads=1)
    lsp_client.editor = await start_editor(lsp_client, request.param, options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_unsure_spans_are_hints_on_exactly_those_characters_until_edited(
    client: LanguageClient,
):
    editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    action = await resolved(
        client, titled(await actions_at(client, uri, 3, 5), "Add docstring (edgewise)")
    )
    assert action.edit is not None and action.command is not None
    editor.apply(action.edit)
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    diagnostics = await wait_until(lambda: client.diagnostics.get(uri))
    (summary,) = [d for d in diagnostics if d.code == "action:docstring"]
    spans = summary.data["confidence"]["low_spans"]
    hints = [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Hint]
    assert len(hints) == len(spans) >= 2, "the tiny model is unsure of several stretches"
    text = editor.text(uri)

    def covered(diag: types.Diagnostic, source: str) -> str:
        start = offset_of(source, diag.range.start, editor.encoding)
        return source[start : offset_of(source, diag.range.end, editor.encoding)]

    for hint, span in zip(hints, spans, strict=True):
        assert covered(hint, text) == span["text"], "exactly the unsure characters"
        assert hint.message == f"model unsure here: p={span['min_prob']:.2f}"

    # the user types a line above: every hint moves with its text
    editor.change(
        uri,
        [
            types.TextEdit(
                range=types.Range(types.Position(0, 0), types.Position(0, 0)), new_text="# top\n"
            )
        ],
    )
    moved = await wait_until(
        lambda: (
            (d := client.diagnostics.get(uri))
            and d[0].range.start.line == summary.range.start.line + 1
            and d
        )
    )
    shifted = editor.text(uri)
    moved_hints = [d for d in moved if d.severity == types.DiagnosticSeverity.Hint]
    assert [covered(h, shifted) for h in moved_hints] == [s["text"] for s in spans]
    # ... and the summary names the weakest line where it is now, not where it was
    weakest = min(spans, key=lambda s: s["min_prob"])
    (moved_summary,) = [d for d in moved if d.code == "action:docstring"]
    assert f"least sure on line {weakest['start']['line'] + 1}" in summary.message
    assert f"least sure on line {weakest['start']['line'] + 2}" in moved_summary.message

    # the user edits inside the first unsure span: that hint goes, the others stay
    first = moved_hints[0]
    inside = types.Position(first.range.start.line, first.range.start.character + 1)
    editor.change(uri, [types.TextEdit(range=types.Range(inside, inside), new_text="X")])
    after = await wait_until(
        lambda: (
            len(
                [
                    d
                    for d in client.diagnostics.get(uri, [])
                    if d.severity == types.DiagnosticSeverity.Hint
                ]
            )
            == len(spans) - 1
            and client.diagnostics[uri]
        )
    )
    assert any(d.code == "action:docstring" for d in after), "the report stays"
    assert first not in after


@pytest_lsp.fixture(config=SERVER)
async def strict(lsp_client: LanguageClient, tiny_model, tmp_path):
    root = make_workspace(tmp_path / "project")
    options = tiny_options(tiny_model, threads=1, minConfidence=0.99)
    lsp_client.options = options  # type: ignore[attr-defined]
    lsp_client.editor = await start_editor(lsp_client, "visual-studio-code", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_min_confidence_hides_completions_and_counts_them(strict: LanguageClient):
    editor = strict.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    for line, column in ((4, 8), (9, 4), (14, 8)):
        shown = await strict.text_document_inline_completion_async(inline(uri, line, column))
        assert shown is not None and not shown.items, "below minConfidence: not shown"
    costs = await cost_report(strict)
    assert costs["session"]["hidden"] == 3 and costs["session"]["completions"] == 3
    status = await wait_until(
        lambda: [s for s in strict.status_updates if s["state"] == "idle"][-1:]  # type: ignore[attr-defined]
    )
    assert status[-1]["hidden"] == 3 and status[-1]["session"]["hidden"] == 3
    strict.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={**strict.options, "minConfidence": 0})  # type: ignore[attr-defined]
    )
    shown = await strict.text_document_inline_completion_async(inline(uri, 4, 8))
    assert shown is not None and shown.items, "the same completion shows without the threshold"
    assert (await cost_report(strict))["session"]["hidden"] == 3


def seed_reports(tiny_model: Path) -> list[dict]:
    """Real reports from another session (in-process engine, same tiny model)."""
    settings = Settings(model=str(tiny_model), context_length=2048, threads=1, max_tokens=8)
    engine = Engine(settings, allow_download=False, report_log=None)
    text = (Path(__file__).parent.parent / "fixtures" / "actions" / "geometry.py").read_text()

    async def run() -> list[dict]:
        return [
            (await engine.complete("file:///other/geometry.py", text, Pos(4, 8), "python")).report,
            (await engine.complete("file:///other/geometry.py", text, Pos(9, 4), "python")).report,
        ]

    try:
        return asyncio.run(run())
    finally:
        engine.close()


@pytest_lsp.fixture(config=LEDGER_SERVER)
async def ledger_client(lsp_client: LanguageClient, tiny_model, tmp_path):
    root = make_workspace(tmp_path / "project")
    options = tiny_options(tiny_model, threads=1)
    lsp_client.editor = await start_editor(lsp_client, "visual-studio-code", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_cost_report_totals_the_session_and_today_from_the_log(
    ledger_client: LanguageClient, tiny_model
):
    client = ledger_client
    log = Path(LEDGER_STATE) / "reports.jsonl"
    today, yesterday = await asyncio.to_thread(seed_reports, tiny_model)
    yesterday["created"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    torn = json.dumps(today)[:100]  # a session that crashed mid-write
    log.write_text(json.dumps(yesterday) + "\n" + json.dumps(today) + "\n" + torn, "utf-8")

    editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    await client.text_document_inline_completion_async(inline(uri, 4, 8))
    await client.text_document_inline_completion_async(inline(uri, 14, 8))
    action = await resolved(
        client, titled(await actions_at(client, uri, 3, 5), "Add docstring (edgewise)")
    )
    assert action.edit is not None
    costs = await cost_report(client)
    assert costs["log"] == str(log)

    lines = log.read_bytes().split(b"\n")
    assert lines[-1] == b"", "every line the server wrote is whole"
    assert lines[2] == torn.encode(), "the torn line is left alone, on its own line"
    mine = [json.loads(line) for line in lines[3:-1]]
    assert len(mine) == 3 and [r["kind"] for r in mine] == ["completion", "completion", "action"]
    session = costs["session"]
    sums = {
        "requests": len(mine),
        "tokens_prompt": sum(r["tokens"]["prompt"] for r in mine),
        "tokens_completion": sum(r["tokens"]["completion"] for r in mine),
        "tokens_cached": sum(r["tokens"]["cached"] for r in mine),
        "tokens_whole_file": sum(
            r["tokens"]["whole_file"] * r["verified"]["attempts"] for r in mine
        ),
    }
    for key, value in sums.items():
        assert session[key] == value, key
    for key, group, field in (
        ("energy_wh", "cost", "energy_wh"),
        ("local_cost", "cost", "local"),
        ("cloud_equivalent", "cost", "cloud_equivalent"),
        ("context_saved_cost", "cost", "context_saving"),
    ):
        assert session[key] == pytest.approx(sum(r[group][field] for r in mine)), key
    assert session["model_seconds"] == pytest.approx(
        sum(r["time_ms"]["total"] for r in mine) / 1000
    )
    assert (
        session["context_saved_tokens"] == session["tokens_whole_file"] - session["tokens_prompt"]
    )
    assert session["currency"] == "USD"
    whole = len(editor.text(uri).encode())  # sanity: a count of tokens, not bytes
    assert 0 < mine[0]["tokens"]["whole_file"] < whole

    day = costs["today"]
    assert day["skipped_lines"] == 1
    assert day["requests"] == session["requests"] + 1, "plus the other session's report of today"
    assert day["tokens_prompt"] == session["tokens_prompt"] + today["tokens"]["prompt"]
    assert day["cloud_equivalent"] == pytest.approx(
        session["cloud_equivalent"] + today["cost"]["cloud_equivalent"]
    )
    status = client.status_updates[-1]  # type: ignore[attr-defined]
    assert status["state"] == "idle" and status["session"] == session
    assert os.path.getsize(log) > 0
