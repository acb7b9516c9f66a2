"""The command line: the tiny smoke-test model and the context inspector."""

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


def test_models_tiny_writes_a_loadable_model_and_says_it_is_noise(tmp_path: Path):
    out = tmp_path / "smoke.gguf"
    result = run("models", "tiny", str(out))
    assert result.returncode == 0, result.stderr
    assert "noise" in result.stdout
    llm = llama_cpp.Llama(str(out), n_ctx=256, verbose=False)
    assert llm.n_vocab() > 256


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
