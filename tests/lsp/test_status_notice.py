"""A suggestion hidden for low confidence is not silent: the ``edgewise/status`` that
follows carries a notice the editors show for a moment ("hidden: not sure enough
(0.03)"); a suggestion shown carries none. Real LSP client, real llama.cpp."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import SERVER, tiny_options, wait_until
from tests.lsp.editor import make_workspace, start_editor


def inline(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
    )


@pytest_lsp.fixture(config=SERVER)
async def strict(lsp_client: LanguageClient, tiny_model: Path, tmp_path: Path):
    options = tiny_options(tiny_model, threads=1, minConfidence=0.99)
    lsp_client.options = options  # type: ignore[attr-defined]
    root = make_workspace(tmp_path / "project")
    lsp_client.editor = await start_editor(lsp_client, "visual-studio-code", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def field(status: Any, name: str) -> Any:
    return status.get(name) if isinstance(status, dict) else getattr(status, name, None)


async def test_a_hidden_suggestion_says_so_in_the_status(strict: LanguageClient):
    updates: list[Any] = strict.status_updates  # type: ignore[attr-defined]
    uri = strict.editor.open("geometry.py", "python")  # type: ignore[attr-defined]
    shown = await strict.text_document_inline_completion_async(inline(uri, 4, 8))
    assert shown is not None and not shown.items, "below minConfidence: not shown"
    with_notice = await wait_until(lambda: [s for s in updates if field(s, "notice")])
    notice = field(with_notice[-1], "notice")
    assert field(notice, "kind") == "hidden" and field(notice, "ms") == 4000
    text = field(notice, "text")
    match = re.fullmatch(r"hidden: not sure enough \((\d\.\d\d)\)", text)
    assert match is not None, text
    last = field(with_notice[-1], "last")
    assert last is not None and field(last, "id"), "the notice comes with the report"

    before = len(updates)
    strict.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={**strict.options, "minConfidence": 0})  # type: ignore[attr-defined]
    )
    shown = await strict.text_document_inline_completion_async(inline(uri, 9, 4))
    assert shown is not None and shown.items
    after = await wait_until(
        lambda: [s for s in updates[before:] if field(s, "last") and field(s, "state") == "idle"]
    )
    assert field(after[-1], "notice") is None, "a suggestion shown: no notice"
