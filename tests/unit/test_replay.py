"""Reports say what determines their text, and `edgewise replay REPORT_ID` runs the same
model call again: real llama.cpp (the tiny model, and SmolLM2), the real command line."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edgewise.config import Settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.model.sent import prompt_sha256, sha256_text
from edgewise.report.ledger import LOG_NAME, ReportLog
from edgewise.schemas import load_schema

CLI = [sys.executable, "-m", "edgewise.cli", "replay"]

CODE = """import os


def total(prices, tax):
    subtotal = sum(prices)
    return subtotal * (1 + tax)


def greet(name):
    return "hello " + name
"""


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("EDGEWISE_STATE_DIR", str(folder))
    return folder


def make_reports(settings: Settings, *, action: bool = True) -> list[dict[str, Any]]:
    """A completion (and a docstring action) through the engine, as the editor asks."""
    engine = Engine(settings, allow_download=False)
    uri = "file:///project/shop.py"

    async def run() -> list[dict[str, Any]]:
        done = await engine.complete(uri, CODE, Pos(5, 11), "python")
        reports = [done.report]
        if action:
            result = await engine.run_action("docstring", uri, CODE, Pos(3, 5), Pos(3, 5), "python")
            reports.append(result.report)
        return reports

    try:
        return asyncio.run(run())
    finally:
        engine.close()


def replay(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDGEWISE_STATE_DIR": str(state)}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env)


def test_reports_carry_what_determines_their_text(tiny_model: Path, state: Path):
    reports = make_reports(Settings(model=str(tiny_model), keep_prompts=True, action_max_tokens=24))
    validator = jsonschema.Draft202012Validator(load_schema("report"))
    for report in reports:
        validator.validate(report)
        facts = report["reproduce"]
        assert facts["backend"] == "llama-cpp-python"
        assert facts["backend_version"] == version("llama-cpp-python")
        assert len(facts["threads"]) == 2 and min(facts["threads"]) >= 1
        assert "AVX" in facts["cpu_features"] or "NEON" in facts["cpu_features"]
        assert facts["reproducible"] is True and facts["prompt_kept"] is True
        assert report["model"]["sha256"] != "unknown" and report["seed"] == 42
        # the hash is of the prompt the store keeps, which is exactly what was sent
        entry = json.loads((state / "prompts" / f"{report['id']}.json").read_text())
        assert prompt_sha256(entry["prompt"]) == facts["prompt_sha256"]
        assert sha256_text(entry["output"]) == facts["output_sha256"]
        assert entry["prompt"]["tokens"] and entry["request"]["max_tokens"] > 0
        assert oct((state / "prompts" / f"{report['id']}.json").stat().st_mode & 0o777) == "0o600"
        assert oct((state / "prompts").stat().st_mode & 0o777) == "0o700"
    assert reports[0]["reproduce"]["stop"] == "CompletionStop"
    assert reports[1]["reproduce"]["stop"] == "MarkerStop"
    assert reports[0]["reproduce"]["prompt_sha256"] != reports[1]["reproduce"]["prompt_sha256"]


def test_prompts_are_not_kept_unless_asked(tiny_model: Path, state: Path):
    (completion,) = make_reports(Settings(model=str(tiny_model)), action=False)
    assert completion["reproduce"]["prompt_kept"] is False
    assert not (state / "prompts").exists()
    done = replay(state, completion["id"])
    assert done.returncode == 2
    assert "prompt was not kept (setting keepPrompts was off)" in done.stderr
    assert completion["reproduce"]["prompt_sha256"][:12] in done.stderr


@pytest.mark.parametrize("temperature", [0.0, 0.9])
def test_replay_is_identical_on_the_tiny_model(tiny_model: Path, state: Path, temperature: float):
    settings = Settings(
        model=str(tiny_model), keep_prompts=True, temperature=temperature, seed=7,
        action_max_tokens=24,
    )  # fmt: skip
    reports = make_reports(settings)
    for report in reports:
        done = replay(state, report["id"], "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        out = json.loads(done.stdout)
        assert out["verdict"] == "identical"
        assert out["output_sha256"]["now"] == report["reproduce"]["output_sha256"]
        assert out["text"]["now"] == out["text"]["then"] and out["text"]["now"]
        assert out["diff"] == ""


def test_replay_says_when_the_text_differs(tiny_model: Path, state: Path):
    (completion,) = make_reports(
        Settings(model=str(tiny_model), keep_prompts=True, temperature=0.9), action=False
    )
    entry_path = state / "prompts" / f"{completion['id']}.json"
    entry = json.loads(entry_path.read_text())
    entry["output"] = "something the model never said\n"  # as if the engine had changed
    entry_path.write_text(json.dumps(entry))
    log = ReportLog(state / LOG_NAME)
    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    lines[-1]["reproduce"]["output_sha256"] = sha256_text(entry["output"])
    log.path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = replay(state, completion["id"])
    assert done.returncode == 1, done.stderr
    assert "DIFFERENT" in done.stdout
    assert f"--- report {completion['id']} (then)" in done.stdout
    assert "-something the model never said" in done.stdout


def test_replay_with_a_changed_model_file_says_so(tiny_model: Path, state: Path, tmp_path: Path):
    from tests.tiny_gguf import write_tiny_gguf

    model = tmp_path / "model.gguf"
    shutil.copy(tiny_model, model)
    (completion,) = make_reports(Settings(model=str(model), keep_prompts=True), action=False)
    write_tiny_gguf(model, seed=5)  # the same name, other weights
    done = replay(state, completion["id"])
    assert done.returncode == 2
    assert f"the model file {model} is not the one report {completion['id']} was made with" in (
        done.stderr
    )
    other = tmp_path / "other.gguf"
    write_tiny_gguf(other, seed=6)
    done = replay(state, completion["id"], "--model", str(other))
    assert done.returncode == 2 and "is not the one report" in done.stderr


def test_unknown_ids_and_missing_prompts_get_clear_messages(tiny_model: Path, state: Path):
    (completion,) = make_reports(Settings(model=str(tiny_model), keep_prompts=True), action=False)
    done = replay(state, "0123456789abcdef")
    assert done.returncode == 2
    assert "no report '0123456789abcdef' in" in done.stderr and "1 reports read" in done.stderr
    done = replay(state, "../../etc/passwd")
    assert done.returncode == 2 and "no report" in done.stderr
    (state / "prompts" / f"{completion['id']}.json").unlink()
    done = replay(state, completion["id"])
    assert done.returncode == 2
    assert "does not hold report" in done.stderr


def test_replay_of_an_older_report_says_it_cannot(tiny_model: Path, state: Path):
    (completion,) = make_reports(Settings(model=str(tiny_model), keep_prompts=True), action=False)
    log = state / LOG_NAME
    old = {k: v for k, v in completion.items() if k != "reproduce"}  # as older versions wrote
    old["id"] = "00000000old00000"
    with log.open("a") as handle:
        handle.write(json.dumps(old) + "\n")
    assert any(r["id"] == old["id"] for r in ReportLog(log).read().reports)  # still reads
    done = replay(state, old["id"])
    assert done.returncode == 2
    assert "made by an older edgewise" in done.stderr
    hit = {**old, "id": "0000000000000hit", "cache": "hit", "cached_from": completion["id"]}
    with log.open("a") as handle:
        handle.write(json.dumps(hit) + "\n")
    done = replay(state, hit["id"])
    assert done.returncode == 2
    assert (
        f"it came from the result cache; replay the report it was served from: {completion['id']}"
        in (done.stderr)
    )


def test_replay_is_identical_on_smollm2(smollm2: Path, state: Path):
    settings = Settings(model=str(smollm2), keep_prompts=True, action_max_tokens=48)
    reports = make_reports(settings)
    assert all(r["reproduce"]["reproducible"] for r in reports)
    for report in reports:
        done = replay(state, report["id"])
        assert done.returncode == 0, done.stdout + done.stderr
        assert "identical: the same" in done.stdout
