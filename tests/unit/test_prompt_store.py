"""The prompt store: private, bounded, and read back only when the prompt is the one
its report names."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from edgewise.model.backend import GenerationRequest
from edgewise.model.sent import EngineFacts, SentFacts, stop_from_spec, stop_spec
from edgewise.model.stops import CompletionStop, MarkerStop
from edgewise.report import prompt_store
from edgewise.report.prompt_store import NotKept, PromptStore

ENGINE = EngineFacts("llama-cpp-python", "0.0", (1, 2), "AVX = 1", True)


def sent(text: str, tokens: int = 10) -> SentFacts:
    request = GenerationRequest(prompt=list(range(tokens)), max_tokens=8, text=text)
    return SentFacts.of(request, "answer", "eos", ENGINE)


def test_an_entry_is_private_and_read_back_by_its_prompt_hash(tmp_path: Path):
    store = PromptStore(tmp_path / "prompts")
    facts = sent("def f():")
    assert store.keep("abc123", facts, "f" * 64)
    path = tmp_path / "prompts" / "abc123.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    kept = store.read("abc123", facts.prompt_sha256)
    assert kept.prompt == facts.prompt and kept.output == "answer"
    assert kept.request == {"max_tokens": 8, "temperature": 0.0, "seed": 42, "stop": None}
    with pytest.raises(NotKept, match="does not hold the prompt report abc123 was made from"):
        store.read("abc123", sent("other").prompt_sha256)
    entry = json.loads(path.read_text())
    entry["prompt"]["text"] = "def g():"  # changed on disk
    path.write_text(json.dumps(entry))
    with pytest.raises(NotKept, match="does not hold the prompt"):
        store.read("abc123", facts.prompt_sha256)
    with pytest.raises(NotKept, match="is not a report id"):
        store.read("../../x", facts.prompt_sha256)


def test_the_store_stays_under_its_limit_dropping_the_oldest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(prompt_store, "MAX_BYTES", 20_000)
    store = PromptStore(tmp_path / "prompts")
    start = time.time() - 1000
    for number in range(60):
        assert store.keep(f"r{number}", sent("x" * 1000), "f" * 64)
        path = tmp_path / "prompts" / f"r{number}.json"
        os.utime(path, (start + number, start + number))  # a clear order, all in the past
    assert store.size() <= 20_000
    left = {p.stem for p in (tmp_path / "prompts").glob("*.json")}
    assert "r59" in left and "r0" not in left
    assert min(int(name[1:]) for name in left) > 40  # the oldest went first


def test_a_huge_prompt_is_not_kept_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(prompt_store, "MAX_ENTRY_BYTES", 5_000)
    store = PromptStore(tmp_path / "prompts")
    assert not store.keep("big", sent("y" * 10_000), "f" * 64)
    assert "prompt of report big not kept" in store.errors[-1]
    assert not (tmp_path / "prompts" / "big.json").exists()


def test_stop_rules_round_trip_through_json():
    for rule in (CompletionStop("    return ", True), MarkerStop(('"""', "```"))):
        spec = json.loads(json.dumps(stop_spec(rule)))
        rebuilt = stop_from_spec(spec)
        assert rebuilt == rule
        assert rebuilt("abc\n    x = 1\ny") == rule("abc\n    x = 1\ny")
    assert stop_spec(lambda text: None) == {"rule": "unknown"}
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        stop_from_spec({"rule": "os.system"})
