"""`edgewise calibrate` on a small project writes a map for the model file, and the
very next report of a running server uses it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from edgewise.calibration.store import CalibrationMap
from edgewise.schemas import load_schema
from tests.lsp.conftest import start
from tests.lsp.real_model import (
    SERVE,
    WALK_TYPING,
    WALK_URI,
    accepted_report,
    inline,
    offline_env,
    real_options,
    show,
)

PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "project"
URI, TEXT = WALK_URI, WALK_TYPING
ENV = offline_env()
SERVER = ClientServerConfig(server_command=SERVE, server_env=ENV)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, smollm2):
    await start(lsp_client, "neovim", real_options(smollm2))
    yield
    await lsp_client.shutdown_session()


async def completion_report(client: LanguageClient) -> dict:
    result = await inline(client, URI, 6, len("        names.append(n"))
    assert result is not None and result.items
    report = await accepted_report(client, URI, result.items[0])
    jsonschema.validate(report, load_schema("report"))
    return report


async def test_calibrate_writes_a_map_the_next_report_uses(client: LanguageClient, smollm2):
    show(client, URI, TEXT)
    before = await completion_report(client)
    assert before["confidence"].get("calibration", {}).get("source") != "user"

    done = subprocess.run(
        [sys.executable, "-m", "edgewise.cli", "calibrate", str(PROJECT), "--samples", "16"]
        + ["--model", str(smollm2)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "reliability" in done.stdout and "expected calibration error" in done.stdout
    sha = hashlib.sha256(smollm2.read_bytes()).hexdigest()
    path = Path(ENV["EDGEWISE_STATE_DIR"]) / "calibration" / f"{sha}.json"
    assert str(path) in done.stdout
    data = json.loads(path.read_text())
    assert data["model_sha256"] == sha and 10 <= data["samples"] <= 16

    after = await completion_report(client)
    conf = after["confidence"]
    assert conf["calibrated"] is True
    assert conf["calibration"]["source"] == "user"
    assert conf["calibration"]["samples"] == data["samples"]
    assert conf["raw_score"] == before["confidence"]["raw_score"]  # same text, same model
    want = CalibrationMap.from_dict(data).apply(conf["raw_score"])
    assert conf["score"] == pytest.approx(want, abs=1e-6)  # reports round to 6 places


def test_calibrate_with_nothing_to_sample_changes_nothing(tmp_path, smollm2):
    (tmp_path / "notes.txt").write_text("no code here\n")
    env = offline_env()
    done = subprocess.run(
        [sys.executable, "-m", "edgewise.cli", "calibrate", str(tmp_path), "--model", str(smollm2)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "no code found" in done.stderr and "nothing written" in done.stderr
    assert not (Path(env["EDGEWISE_STATE_DIR"]) / "calibration").exists()
