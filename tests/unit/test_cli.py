"""The command line: the model list and the context inspector."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import llama_cpp

from tests.lsp.sample_files import FIXTURES

CLI = [sys.executable, "-m", "edgewise.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_models_lists_the_configured_model_from_its_gguf_header(tiny_model: Path):
    result = run("models", "--json", "--model", str(tiny_model))
    assert result.returncode == 0, result.stderr
    configured = [m for m in json.loads(result.stdout) if m["origin"] == "configured"]
    assert len(configured) == 1, result.stdout
    model = configured[0]
    assert model["path"] == str(tiny_model)
    assert (model["name"], model["architecture"]) == ("edgewise-tiny-random", "llama")
    assert model["fim"] is True and model["chat_template"] is True


def test_context_json_counts_exactly_and_stays_in_budget(tiny_model: Path):
    source = FIXTURES / "files.py"
    result = run(
        "context", str(source), "--line", "18", "--column", "9", "--budget", "48",
        "--tokenizer", str(tiny_model), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    vocab = llama_cpp.Llama(str(tiny_model), vocab_only=True, verbose=False)
    counted = vocab.tokenize(out["text"].encode(), add_bos=False, special=True)
    assert out["prompt_tokens"] == len(counted) <= 48
    kinds = [p["kind"] for p in out["pieces"]]
    assert "scope_header" in kinds  # `class Counter:` is far above the small window
    assert out["text"].startswith("<|fim_prefix|>class Counter:")
    assert out["assembly_ms"] >= 0


def test_context_on_a_missing_file_is_a_clear_usage_error(tiny_model: Path, tmp_path: Path):
    result = run(
        "context", str(tmp_path / "nope.py"), "--line", "1", "--column", "1",
        "--tokenizer", str(tiny_model),
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot read" in result.stderr
