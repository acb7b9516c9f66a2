"""Code actions on a model without a chat template (a base or FIM-only model), through a
real LSP client with real llama.cpp on the tiny model written without its template:
every action is offered enabled; a docstring is the infill between its quotes and a type
the infill after ``: `` (fill-in-the-middle), other actions take their instruction as a
plain prefix prompt; the report says which (``prompt_format``)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from edgewise.schemas import load_schema
from tests.lsp.action_checks import actions_at, check_applies, last_prompt, resolved, titled
from tests.lsp.conftest import SERVER, tiny_options, wait_until
from tests.lsp.editor import Editor, make_workspace, start_editor
from tests.tiny_gguf import write_tiny_gguf

DOCSTRING = "Add docstring (edgewise)"
ANNOTATE = "Add type annotations (edgewise)"
RETURN_TYPE = "Add explicit return type (edgewise)"
EXPLAIN = "Explain (edgewise)"
PYTHON_ACTIONS = {DOCSTRING, ANNOTATE, "Simplify (edgewise)", EXPLAIN}


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("base") / "base.gguf", chat_template=False)


async def started(lsp_client: LanguageClient, model: Path, root: Path, **extra: object) -> Editor:
    options = tiny_options(model, threads=1, **extra)
    editor = await start_editor(lsp_client, "neovim", options, root)
    lsp_client.editor = editor  # type: ignore[attr-defined]
    return editor


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, base_model: Path, tmp_path: Path):
    await started(lsp_client, base_model, make_workspace(tmp_path / "project"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def prefix_client(lsp_client: LanguageClient, base_model: Path, tmp_path: Path):
    root = make_workspace(tmp_path / "project")
    await started(lsp_client, base_model, root, actionPrompt="prefix")
    yield
    await lsp_client.shutdown_session()


async def report_of(client: LanguageClient, action: types.CodeAction, uri: str) -> dict:
    """A refused action's report (in its data), or an offered one's: the report the
    editor gets once the edit is applied (the diagnostic's data)."""
    report = (action.data or {}).get("report")
    if report is None:
        assert action.command is not None
        report_id = action.command.arguments[0]  # type: ignore[index]
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=action.command.command, arguments=action.command.arguments
            )
        )
        report = await wait_until(
            lambda: next(
                (
                    d.data
                    for d in client.diagnostics.get(uri, [])
                    if isinstance(d.data, dict) and d.data.get("id") == report_id
                ),
                None,
            )
        )
    jsonschema.validate(report, load_schema("report"))
    return report


async def test_actions_are_offered_and_applied_through_infill(client: LanguageClient):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    actions = await actions_at(client, uri, 3, 5)
    assert PYTHON_ACTIONS <= {a.title for a in actions}
    assert all(a.disabled is None for a in actions), [a.disabled for a in actions]

    docstring = await resolved(client, titled(actions, DOCSTRING))
    after = check_applies(editor, docstring, uri, "python", (4, 4))
    assert after.splitlines()[4].startswith('    """')
    report = await report_of(client, docstring, uri)
    assert report["prompt_format"] == "fim"
    sent = await last_prompt(client)
    assert sent["format"] == "fim" and sent["action"] == "docstring"
    # the model fills in the docstring where it goes: between its quotes, the file around
    assert '):\n    """<|fim_suffix|>"""\n    return width * height' in sent["text"]
    assert sent["text"].startswith("<|fim_prefix|>import math")
    assert sent["text"].endswith("<|fim_middle|>")
    assert report["tokens"]["prompt"] == sent["prompt_tokens"]

    # types: one infill after each `: ` (and after `-> `), in one report
    typed = await resolved(client, titled(await actions_at(client, uri, 7, 5), ANNOTATE))
    report = await report_of(client, typed, uri)
    assert report["prompt_format"] == "fim"
    sent = await last_prompt(client)
    assert sent["notes"][0] == "3 infills, one per hole", sent["notes"]
    assert "def circle_area(radius: <|fim_suffix|>, precision=2):" in sent["text"]
    assert "def circle_area(radius, precision: <|fim_suffix|> = 2):" in sent["text"]
    assert "def circle_area(radius, precision=2) -> <|fim_suffix|>:" in sent["text"]
    if typed.disabled is not None:  # noise as types is refused, never for the model's kind
        assert "chat template" not in typed.disabled.reason
    else:
        check_applies(editor, typed, uri, "python", (7, 7))


async def test_an_action_without_an_infill_form_is_a_prefix_prompt(client: LanguageClient):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    explain = titled(await actions_at(client, uri, 8, 5), EXPLAIN)
    assert explain.command is not None
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=explain.command.command, arguments=explain.command.arguments
        )
    )
    assert result["shown"] == "document" and result["text"]
    assert result["report"]["prompt_format"] == "prefix"
    sent = await last_prompt(client)
    assert sent["format"] == "prefix"
    assert sent["text"].startswith("You are a careful senior engineer explaining code")
    assert "<|im_start|>" not in sent["text"] and "<|fim_prefix|>" not in sent["text"]


async def test_typescript_and_jsdoc_types_are_infills(client: LanguageClient):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("web/shapes.ts", "typescript")
    action = await resolved(client, titled(await actions_at(client, uri, 7, 3), RETURN_TYPE))
    assert (await report_of(client, action, uri))["prompt_format"] == "fim"
    sent = await last_prompt(client)
    assert "  area(): <|fim_suffix|> {" in sent["text"]
    if action.disabled is None:
        check_applies(editor, action, uri, "typescript", (7, 7))

    js = editor.open("web/format.js", "javascript")
    jsdoc = titled(await actions_at(client, js, 0, 18), "Add JSDoc types (edgewise)")
    jsdoc = await resolved(client, jsdoc)
    assert (await report_of(client, jsdoc, js))["prompt_format"] == "fim"
    sent = await last_prompt(client)
    assert sent["notes"][0] == "3 infills, one per hole"
    assert "/**\n * @param {<|fim_suffix|>} name\n */\nexport function label" in sent["text"]
    assert " * @returns {<|fim_suffix|>}\n */\n" in sent["text"]


async def test_forced_prefix_prompt_writes_the_docstring_after_its_quotes(
    prefix_client: LanguageClient,
):
    editor: Editor = prefix_client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    actions = await actions_at(prefix_client, uri, 3, 5)
    docstring = await resolved(prefix_client, titled(actions, DOCSTRING))
    after = check_applies(editor, docstring, uri, "python", (4, 4))
    assert after.splitlines()[4].startswith('    """')
    assert (await report_of(prefix_client, docstring, uri))["prompt_format"] == "prefix"
    sent = await last_prompt(prefix_client)
    assert sent["format"] == "prefix"
    assert sent["text"].endswith('def area(width, height):\n    """'), sent["text"][-80:]
    assert "<|fim_" not in sent["text"]
