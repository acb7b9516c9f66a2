"""End to end: a real LSP client drives `edgewise serve` whose `backend` is a real
llama-cpp-python server; then the server fails in each way a shared one can."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import jsonschema
import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from edgewise.pipeline.services import BENCH_BASELINE_ENV
from edgewise.schemas import load_schema
from tests.lsp.conftest import SERVER_ENV, open_doc, start, wait_until
from tests.lsp.sample_files import PYTHON
from tests.remote.conftest import FailingServer, LlamaServer, free_port

PY_URI = "file:///work/project/files.py"
SECRET = "sk-edgewise-lsp-0123456789abcdef"
KEY_ENV = "EDGEWISE_REMOTE_TEST_KEY"


def remote_options(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "backend": url,
        "debounceMs": 0,
        "minConfidence": 0,  # the tiny model's text is noise: show it all the same
        "maxTokens": 16,
        "actionMaxTokens": 48,
        **extra,
    }


async def launch(lsp_client: LanguageClient, options: dict[str, Any], env: dict[str, str]) -> None:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "edgewise.cli", "serve", "--debug"],
        # the typing-speed baseline: no result cache, so every request reaches the remote
        server_env={**SERVER_ENV, BENCH_BASELINE_ENV: "1", **env},
    )
    await lsp_client.start_io(*config.server_command, env=config.server_env)
    await start(lsp_client, "neovim", options)


@pytest.fixture
async def lsp(request: pytest.FixtureRequest):
    """A client whose server is started by the test (each test picks its settings)."""
    from pytest_lsp.client import make_test_lsp_client

    client = make_test_lsp_client()
    yield client
    process = client._server
    if process is not None and process.returncode is None:
        await client.shutdown_session()
    await client.stop()


async def inline(client: LanguageClient, line: int = 6, character: int = 8) -> Any:
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=PY_URI),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )


async def docstring(client: LanguageClient) -> types.CodeAction:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=PY_URI),
            range=types.Range(start=types.Position(4, 6), end=types.Position(4, 6)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(
        a for a in actions or [] if isinstance(a, types.CodeAction) and "docstring" in a.title
    )
    if action.edit is None and action.disabled is None:
        action = await client.code_action_resolve_async(action)
    return action


async def report_of(client: LanguageClient, command: types.Command | None) -> dict[str, Any]:
    assert command is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )
    wanted = command.arguments[0] if command.arguments else None
    diagnostics = await wait_until(
        lambda: [
            d
            for d in client.diagnostics.get(PY_URI, [])
            if isinstance(d.data, dict) and d.data.get("id") == wanted
        ]
    )
    return diagnostics[0].data


def errors(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Error]


async def test_completion_and_docstring_action_through_a_remote_server(
    lsp: LanguageClient, start_server: Any, tiny_model: Any
):
    server: LlamaServer = start_server()
    pricing = {"deviceWatts": 450, "pricePerKwh": 0.5, "inputPerMillion": 1, "outputPerMillion": 2}
    await launch(
        lsp,
        remote_options(server.url, remoteTokenizer=str(tiny_model), remotePricing=pricing),
        {},
    )
    open_doc(lsp, PY_URI, "python", PYTHON)
    result = await inline(lsp)
    assert result is not None and result.items and result.items[0].insert_text
    sent = await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    report = await report_of(lsp, result.items[0].command)
    jsonschema.validate(report, load_schema("report"))
    assert report["model"]["backend"] == "remote:llama-cpp-python"
    assert report["model"]["path"] == server.url
    # llama-cpp-python's server sends no usage in a stream: counted here, exactly
    assert report["tokens"]["source"] == report["time_ms"]["source"] == "measured"
    assert report["tokens"]["prompt"] == sent["prompt_tokens"]
    assert 1 <= report["tokens"]["completion"] <= 16
    conf = report["confidence"]
    assert 0 < conf["score"] <= 1 and 0 < conf["min_prob"] <= 1
    cost = report["cost"]
    expected_wh = 450 * report["time_ms"]["total"] / 3_600_000
    assert cost["energy_wh"] == pytest.approx(expected_wh, rel=1e-3)
    billed = (report["tokens"]["prompt"] * 1 + report["tokens"]["completion"] * 2) / 1e6
    assert cost["local"] == pytest.approx(expected_wh / 1000 * 0.5 + billed, rel=1e-3)

    action = await docstring(lsp)
    assert action.disabled is None, action.disabled
    report = await report_of(lsp, action.command)
    jsonschema.validate(report, load_schema("report"))
    assert report["prompt_format"] == "chat"
    # the chat template is known (from the vocabulary GGUF): the count is exact
    sent = await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    assert report["tokens"]["prompt"] == sent["prompt_tokens"]
    assert report["tokens"]["source"] == "measured"
    assert report["confidence"]["score"] is not None
    assert errors(lsp) == []


async def test_without_a_chat_template_the_action_count_is_marked_estimated(
    lsp: LanguageClient, start_server: Any
):
    server: LlamaServer = start_server()
    await launch(lsp, remote_options(server.url), {})  # the server's own tokenizer
    open_doc(lsp, PY_URI, "python", PYTHON)
    action = await docstring(lsp)
    assert action.disabled is None, action.disabled
    report = await report_of(lsp, action.command)
    assert report["tokens"]["source"] == "estimated"
    assert report["confidence"]["score"] is not None


async def test_server_killed_mid_request_then_back(lsp: LanguageClient, start_server: Any):
    server: LlamaServer = start_server()
    await launch(lsp, remote_options(server.url, maxCompletionMs=60000), {})
    open_doc(lsp, PY_URI, "python", PYTHON)
    assert (await inline(lsp)).items  # warm: the backend is loaded
    server.pause()  # the next request reaches the server and hangs there...
    pending = lsp.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=PY_URI),
            position=types.Position(line=6, character=8),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    task = asyncio.ensure_future(pending)
    await asyncio.sleep(1.0)
    server.kill()  # ...until the server dies under it
    result = await asyncio.wait_for(task, timeout=30)
    assert not result.items
    message = (await wait_until(lambda: errors(lsp)))[-1]
    assert server.url in message and ("cannot reach" in message or "closed" in message)

    start_server(port=server.port)  # the server is back on its address
    assert (await inline(lsp)).items


async def test_http_500_then_the_real_server_comes_back(
    lsp: LanguageClient, start_server: Any, tiny_model: Any
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with FailingServer(port):
        await launch(lsp, remote_options(url, remoteTokenizer=str(tiny_model)), {})
        open_doc(lsp, PY_URI, "python", PYTHON)
        assert not (await inline(lsp)).items
        message = (await wait_until(lambda: errors(lsp)))[-1]
        assert f"the server at {url} answered HTTP 500 to /v1/completions" in message
        assert "CUDA error: out of memory" in message
    start_server(port=port)
    assert (await inline(lsp)).items


async def test_slow_server_beyond_the_timeout_then_responsive(
    lsp: LanguageClient, start_server: Any
):
    server: LlamaServer = start_server()
    await launch(lsp, remote_options(server.url, requestTimeoutMs=1500), {})
    open_doc(lsp, PY_URI, "python", PYTHON)
    assert (await docstring(lsp)).disabled is None  # warm
    server.pause()
    try:
        action = await docstring(lsp)
        assert action.disabled is not None
        assert "sent nothing for 1.5 s" in action.disabled.reason
        message = (await wait_until(lambda: errors(lsp)))[-1]
        assert "requestTimeoutMs" in message and server.url in message
    finally:
        server.resume()
    assert (await docstring(lsp)).disabled is None


async def test_server_without_logprobs_gives_unknown_confidence_and_one_notice(
    lsp: LanguageClient, start_server: Any
):
    server: LlamaServer = start_server("--logits_all", "False")
    await launch(lsp, remote_options(server.url), {})
    open_doc(lsp, PY_URI, "python", PYTHON)
    for _ in range(2):
        result = await inline(lsp)
        assert result.items and result.items[0].insert_text
    report = await report_of(lsp, result.items[0].command)
    assert report["confidence"]["score"] is None and report["confidence"]["low_spans"] == []
    summary = [d for d in lsp.diagnostics[PY_URI] if d.data is report or d.data == report]
    assert "confidence unknown" in summary[0].message
    notices = [m.message for m in lsp.messages if "log-probabilities" in m.message]
    assert len(notices) == 1 and "--logits_all True" in notices[0]
    assert errors(lsp) == []


async def test_api_key_from_env_is_used_but_never_shown(
    lsp: LanguageClient, start_server: Any, capfd: pytest.CaptureFixture[str]
):
    server: LlamaServer = start_server("--api_key", SECRET)
    await launch(lsp, remote_options(server.url, apiKeyEnv=KEY_ENV), {KEY_ENV: SECRET})
    open_doc(lsp, PY_URI, "python", PYTHON)
    result = await inline(lsp)
    assert result.items  # the server accepted the key
    report = await report_of(lsp, result.items[0].command)
    action = await docstring(lsp)
    assert action.disabled is None, action.disabled
    seen = [
        json.dumps(report),
        json.dumps(await report_of(lsp, action.command)),
        json.dumps(lsp.status_updates),  # type: ignore[attr-defined]
        *(m.message for m in lsp.messages),
        *(m.message for m in lsp.log_messages),
    ]
    await lsp.shutdown_session()
    await asyncio.sleep(0.5)  # the client forwards the server's stderr asynchronously
    log = capfd.readouterr().err  # the language server's --debug log
    assert f"{server.url}/v1/completions" in log  # httpx logged each request...
    seen.append(log)
    assert "remote:llama-cpp-python" in seen[0]
    assert all(SECRET not in text for text in seen)
    assert os.environ.get(KEY_ENV) is None  # the key lived only in the server's env
