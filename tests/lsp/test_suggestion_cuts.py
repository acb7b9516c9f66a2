"""Through a real LSP client on the real SmolLM2: a suggestion is cut where the model
stops being sure and where it starts to echo the code below, and the report the editor
gets says where and why (greedy and seeded, so the text is reproducible)."""

from __future__ import annotations

import jsonschema
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from edgewise.schemas import load_schema
from tests.lsp.conftest import start
from tests.lsp.real_model import SERVE, accepted_report, inline, offline_env, real_options, show

URI = "file:///work/project/dirs.py"
TWO_FUNCTIONS = """import os


def list_files(path):
    names = []
    for name in sorted(os.listdir(path)):
        names.append(name)
    return names


def list_dirs(path):
    names = []
    for name in sorted(os.listdir(path)):

    return names
"""  # the cursor: the blank line 13, column 0
NEW_FUNCTION = TWO_FUNCTIONS.rsplit("    for name", 1)[0] + "    \n"  # cursor: line 12, col 4

SERVER = ClientServerConfig(server_command=SERVE, server_env=offline_env())


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, smollm2):
    await start(lsp_client, "visual-studio-code", real_options(smollm2))
    yield
    await lsp_client.shutdown_session()


async def test_the_report_says_where_a_suggestion_was_cut_and_why(client: LanguageClient):
    show(client, URI, TWO_FUNCTIONS)
    result = await inline(client, URI, 13, 0)
    assert result is not None and result.items
    item = result.items[0]
    report = await accepted_report(client, URI, item)
    jsonschema.validate(report, load_schema("report"))
    # SmolLM2 writes a loop body and then `return names`, which is the next line
    assert report["cuts"][0]["reason"] == "echo_below"
    assert report["cuts"][0]["text"] == "return names"
    assert "return names" not in item.insert_text
    assert report["cuts"][-1]["kept"] == len(item.insert_text)  # the last cut is what shows

    show(client, URI.replace("dirs", "new"), NEW_FUNCTION)
    result = await inline(client, URI.replace("dirs", "new"), 12, 4)
    assert result is not None and result.items
    item = result.items[0]
    report = await accepted_report(client, URI.replace("dirs", "new"), item)
    jsonschema.validate(report, load_schema("report"))
    (cut,) = report["cuts"]
    assert cut["reason"] == "unsure"
    assert cut["prob"] < cut["threshold"] == 0.5  # trimBelow's default
    # what shows is the sure part, its first word kept; the rest the model wrote is quoted
    assert cut["kept"] == len(item.insert_text) and cut["text"]
    assert item.insert_text.startswith("for ")
