"""Through a real LSP client: the user's didChange edits and their other open documents
reach the completion prompt (as `edgewise.lastPrompt` shows it), and the settings turn
each off."""

from __future__ import annotations

from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import SERVER, open_doc, start, tiny_options
from tests.lsp.real_model import inline

HELPERS = "file:///work/project/helpers.py"
MAIN = "file:///work/project/main.py"
HELPERS_TEXT = """import json


def load_settings(path):
    with open(path) as handle:
        settings = json.load(handle)
    settings.setdefault("retries", 3)
    return settings
"""
MAIN_TEXT = """import sys


def read_config(path):
    with open(path) as handle:
        config = json.load(handle)
    config.setdefault(
"""


def replace_line(client: LanguageClient, uri: str, line: int, old: str, new: str, version: int):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=line, character=0),
                        end=types.Position(line=line, character=len(old)),
                    ),
                    text=new,
                )
            ],
        )
    )


async def last_prompt(client: LanguageClient) -> dict[str, Any]:
    result: dict[str, Any] = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    return result


async def prompt_after_an_edit(client: LanguageClient) -> dict[str, Any]:
    open_doc(client, HELPERS, "python", HELPERS_TEXT)
    open_doc(client, MAIN, "python", MAIN_TEXT)
    replace_line(client, MAIN, 0, "import sys", "import json", 2)  # what the user just did
    await inline(client, MAIN, 6, len("    config.setdefault("))
    return await last_prompt(client)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tiny_model: Any):
    await start(lsp_client, "visual-studio-code", tiny_options(tiny_model, contextBudget=512))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER)
async def plain(lsp_client: LanguageClient, tiny_model: Any):
    options = tiny_options(tiny_model, contextBudget=512, recentEdits=False, openFileSnippets=False)
    await start(lsp_client, "visual-studio-code", options)
    yield
    await lsp_client.shutdown_session()


async def test_the_prompt_carries_the_last_edit_and_a_snippet_of_another_open_file(
    client: LanguageClient,
):
    sent = await prompt_after_an_edit(client)
    kinds = [p["kind"] for p in sent["pieces"]]
    assert kinds[:2] == ["snippet", "edit"], kinds
    assert "# edited main.py line 1:\n# -import sys\n# +import json\n" in sent["text"]
    assert "# Compare this snippet from helpers.py:" in sent["text"]
    assert "#         settings = json.load(handle)" in sent["text"]
    assert sent["prompt_tokens"] <= 512


async def test_the_settings_turn_both_off(plain: LanguageClient):
    sent = await prompt_after_an_edit(plain)
    kinds = {p["kind"] for p in sent["pieces"]}
    assert not kinds & {"snippet", "edit"}
    assert "# edited" not in sent["text"] and "Compare this snippet" not in sent["text"]
