"""A server that echoes the request's headers in its errors: the API key and the URL's
credentials reach no message, report or log, whatever the server sends."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from edgewise.batch.records import ReportWriter
from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.model.backend import ModelError
from edgewise.redact import SECRETS, RedactingFilter
from tests.batch.conftest import copy_project, read_report
from tests.lsp.conftest import open_doc, wait_until
from tests.lsp.sample_files import PYTHON
from tests.remote.misbehaving import MisbehavingServer
from tests.remote.test_remote_lsp import errors, inline, launch, lsp, remote_options

__all__ = ["lsp"]  # the fixture, shared with test_remote_lsp

PY_URI = "file:///work/project/files.py"
KEY = "sk-edgewise-echo-5ecret-0123456789"
KEY_ENV = "EDGEWISE_ECHO_TEST_KEY"
USER, PASSWORD = "alice", "pa55-w0rd/echo"  # the "/" is percent-encoded in the URL
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def with_login(url: str) -> str:
    return url.replace("http://", f"http://{USER}:{PASSWORD.replace('/', '%2F')}@")


def leaks(text: str) -> list[str]:
    return [s for s in (KEY, PASSWORD, "pa55-w0rd%2Fecho", BASIC) if s in text]


def engine_for(url: str, **extra: Any) -> Engine:
    raw = {"backend": url, "maxTokens": 8, "actionMaxTokens": 16, "requestTimeoutMs": 2000}
    result = parse_settings({**raw, **extra})
    assert result.problems == []
    return Engine(result.settings, allow_download=False)


@pytest.mark.parametrize("mode", ["echo-500", "echo-mid-stream"])
@pytest.mark.parametrize("login", ["api-key", "url-credentials"])
async def test_an_echoed_secret_is_masked_in_the_error(
    mode: str, login: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    with MisbehavingServer(mode) as server:
        if login == "api-key":
            monkeypatch.setenv(KEY_ENV, KEY)
            engine = engine_for(server.url, apiKeyEnv=KEY_ENV)
            sent = f"Bearer {KEY}"
        else:
            engine = engine_for(with_login(server.url))
            sent = f"Basic {BASIC}"
        try:
            for run in (
                engine.complete(PY_URI, PYTHON, Pos(6, 8), "python"),
                engine.run_action("docstring", PY_URI, PYTHON, Pos(4, 6), Pos(4, 6), "python"),
            ):
                with pytest.raises(ModelError) as failure:
                    await run
                message = str(failure.value)
                assert server.seen_headers[-1]["Authorization"] == sent  # it was sent...
                assert "Authorization" in message and "[redacted]" in message  # ...and echoed
                assert leaks(message) == []
            assert leaks(caplog.text) == []
            server.mode = "ok"  # and the next request is served
            assert (await engine.complete(PY_URI, PYTHON, Pos(6, 8), "python")).text
        finally:
            engine.close()


async def test_no_secret_in_editor_messages_or_the_debug_log(
    lsp: LanguageClient, capfd: pytest.CaptureFixture[str]
):
    with MisbehavingServer("echo-500") as server:
        url = with_login(server.url)
        await launch(lsp, remote_options(url, apiKeyEnv=KEY_ENV), {KEY_ENV: KEY})
        open_doc(lsp, PY_URI, "python", PYTHON)
        assert not (await inline(lsp)).items
        message = (await wait_until(lambda: errors(lsp)))[-1]
        assert "answered HTTP 500" in message and "[redacted]" in message
        seen = [*(m.message for m in lsp.messages), *(m.message for m in lsp.log_messages)]
        await lsp.shutdown_session()
        await asyncio.sleep(0.5)  # the client forwards the server's stderr asynchronously
        log = capfd.readouterr().err  # the language server's --debug log
        assert "HTTP Request: POST" in log  # httpx logged each request (without the login)
        assert all(leaks(text) == [] for text in [*seen, log])
        assert server.seen_headers[-1]["Authorization"] == f"Bearer {KEY}"


def test_no_secret_in_the_batch_report(tmp_path: Path, tiny_model: Path):
    import os

    project = copy_project(tmp_path / "shop")
    report = tmp_path / "report.jsonl"
    settings = tmp_path / "settings.json"
    with MisbehavingServer("echo-500") as server:
        settings.write_text(
            json.dumps(
                {"backend": with_login(server.url), "apiKeyEnv": KEY_ENV, "actionMaxTokens": 16}
            )
        )
        env = {**os.environ, KEY_ENV: KEY, "EDGEWISE_STATE_DIR": str(tmp_path / "state")}
        done = subprocess.run(
            [sys.executable, "-m", "edgewise.cli", "refactor", "inventory/models.py"]
            + ["--action", "docstring", "--settings", str(settings), "--report", str(report)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    lines = read_report(report)
    failed = [r for r in lines if r.get("outcome") == "failed"]
    assert failed and all("[redacted]" in r["reason"] for r in failed), done.stderr
    assert leaks(report.read_text("utf-8")) == []
    assert leaks(done.stdout + done.stderr) == []


def test_the_sinks_mask_a_secret_that_got_past_the_backend(tmp_path: Path):
    secret = "sk-edgewise-sink-test-77aa"
    SECRETS.add(secret)
    writer = ReportWriter(tmp_path / "r.jsonl")
    writer.write({"reason": f"key {secret} here"})
    writer.close()
    assert (tmp_path / "r.jsonl").read_text() == '{"reason":"key [redacted] here"}\n'

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "got %s", (secret,), None)
    try:
        raise ValueError(secret)
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert secret not in text and text.startswith("got [redacted]")
