"""Bad models and bad settings: a clear message, and the server keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import SERVER, open_doc, start, tiny_options, wait_until
from tests.lsp.sample_files import PYTHON

URI = "file:///work/project/files.py"


def inline_params(line: int = 6, character: int = 8) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )


@pytest_lsp.fixture(config=SERVER)
async def bare(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


def errors(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Error]


@pytest.mark.parametrize("kind", ["missing", "truncated", "not-gguf"])
async def test_broken_model_gets_a_clear_message_and_the_server_recovers(
    bare: LanguageClient, tiny_model: Path, tmp_path: Path, kind: str
):
    client = bare
    broken = tmp_path / f"{kind}.gguf"
    if kind == "truncated":
        data = tiny_model.read_bytes()
        broken.write_bytes(data[: len(data) // 3])
    elif kind == "not-gguf":
        broken.write_text("this is not a model\n")
    await start(client, "neovim", tiny_options(broken))
    open_doc(client, URI, "python", PYTHON)
    result = await client.text_document_inline_completion_async(inline_params())
    assert result is not None and not result.items
    messages = await wait_until(lambda: errors(client))
    text = messages[0]
    assert str(broken) in text and "`model`" in text, text
    expected = {"missing": "not found", "truncated": "corrupt", "not-gguf": "not a GGUF"}[kind]
    assert expected in text

    # the server still answers, and the same error is not repeated on every keystroke
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=types.Range(start=types.Position(4, 6), end=types.Position(4, 6)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None
    await client.text_document_inline_completion_async(inline_params())
    assert len(errors(client)) == 1

    # fixing the setting makes the next request work
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"edgewise": tiny_options(tiny_model)})
    )
    result = await client.text_document_inline_completion_async(inline_params())
    assert result is not None and result.items


async def test_invalid_settings_warn_and_fall_back_to_defaults(
    bare: LanguageClient, tiny_model: Path
):
    client = bare
    options = tiny_options(tiny_model, contextBudget="huge", minConfidence=3, colour="blue")
    await start(client, "visual-studio-code", options)
    warnings = await wait_until(
        lambda: [m.message for m in client.messages if m.type == types.MessageType.Warning]
    )
    joined = " ".join(warnings)
    assert "contextBudget" in joined and "minConfidence" in joined and "colour" in joined
    open_doc(client, URI, "python", PYTHON)
    result = await client.text_document_inline_completion_async(inline_params())
    assert result is not None
    totals = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )
    assert totals["session"]["requests"] == 1  # defaults in force, the model still works
    # minConfidence 3 fell back to the default (0.05): shown, or hidden by that default
    assert bool(result.items) != (totals["session"]["hidden"] == 1)
    sent = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    assert sent["prompt_tokens"] <= 1024  # the default budget replaced the broken one


async def test_requests_that_cannot_be_served_warn_in_one_voice(
    bare: LanguageClient, tiny_model: Path
):
    """An unknown action, an action that does not apply where it was asked, and a bad
    setting reach the user the same way (``errors.user_message``): one warning each,
    "edgewise: " and the reason, never an error (the model is fine), and the server goes
    on answering."""
    client = bare
    await start(client, "neovim", tiny_options(tiny_model, contextBudget="huge"))
    open_doc(client, URI, "python", PYTHON)
    top = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    for action in ("no-such-action", "docstring"):  # no function on the first line
        resolved = await client.code_action_resolve_async(
            types.CodeAction(title="edgewise", data={"action": action, "uri": URI, "range": top})
        )
        assert resolved.edit is None and resolved.disabled is not None

    def warnings() -> list[str]:
        return [m.message for m in client.messages if m.type == types.MessageType.Warning]

    told = await wait_until(lambda: warnings() if len(warnings()) >= 3 else None)
    assert all(text.startswith("edgewise: ") for text in told), told
    joined = "\n".join(told)
    assert "unknown action 'no-such-action'" in joined
    assert "does not apply here" in joined
    assert "contextBudget" in joined
    assert not errors(client), "a request that cannot be served is not a model error"
    result = await client.text_document_inline_completion_async(inline_params())
    assert result is not None and result.items
