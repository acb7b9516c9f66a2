"""The tiny random-weight GGUF loads and runs in real llama.cpp, with a usable vocabulary."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

llama_cpp = pytest.importorskip("llama_cpp")

from edgewise.config import Settings  # noqa: E402
from edgewise.model.backend import GenerationRequest, GenerationResult  # noqa: E402
from edgewise.model.host import ModelHost  # noqa: E402
from tests.tiny_gguf import MODEL_NAME, SPECIAL_TOKENS, write_tiny_gguf  # noqa: E402

if TYPE_CHECKING:
    from llama_cpp import Llama

CODE = b"def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("tiny") / "tiny.gguf", seed=0)


@pytest.fixture(scope="module")
def llm(model_path: Path) -> Iterator[Llama]:
    # the vocabulary and metadata only: weights are decoded in a model process (below),
    # never in the test process, where a native fault would end the whole run
    model = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    yield model
    model.close()


def _special_id(llm: Llama, text: str) -> int:
    ids = llm.tokenize(text.encode(), add_bos=False, special=True)
    assert len(ids) == 1, (text, ids)
    return ids[0]


def _greedy(model_path: Path, prompt: list[int], n: int) -> list[GenerationResult]:
    """Two greedy generations of ``n`` tokens, in a model process (the server's own)."""

    async def run() -> list[GenerationResult]:
        host = ModelHost(Settings(model=str(model_path), threads=1), allow_download=False)
        try:
            await host.backend()
            return [
                await host.generate(
                    GenerationRequest(prompt=prompt, max_tokens=n, reuse_prefix=False)
                )
                for _ in range(2)
            ]
        finally:
            host.close()

    return asyncio.run(run())


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = write_tiny_gguf(tmp_path / "a.gguf", seed=0)
    b = write_tiny_gguf(tmp_path / "b.gguf", seed=0)
    c = write_tiny_gguf(tmp_path / "c.gguf", seed=1)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert a.stat().st_size < 5 * 1024 * 1024


def test_metadata(llm: Llama) -> None:
    meta = llm.metadata
    assert meta["general.architecture"] == "llama"
    assert meta["general.name"] == MODEL_NAME
    assert "tokenizer.chat_template" in meta
    assert "<|im_start|>" in meta["tokenizer.chat_template"]
    assert meta["llama.context_length"] == "4096"


def test_special_tokens(llm: Llama) -> None:
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    ids = {text: _special_id(llm, text) for text in SPECIAL_TOKENS}
    assert len(set(ids.values())) == len(SPECIAL_TOKENS)
    assert llama_cpp.llama_vocab_fim_pre(vocab) == ids["<|fim_prefix|>"]
    assert llama_cpp.llama_vocab_fim_suf(vocab) == ids["<|fim_suffix|>"]
    assert llama_cpp.llama_vocab_fim_mid(vocab) == ids["<|fim_middle|>"]
    assert llama_cpp.llama_vocab_fim_pad(vocab) == ids["<|fim_pad|>"]
    assert llama_cpp.llama_vocab_fim_sep(vocab) == ids["<|file_sep|>"]
    assert llama_cpp.llama_vocab_bos(vocab) == ids["<|endoftext|>"]
    assert llama_cpp.llama_vocab_eos(vocab) == ids["<|endoftext|>"]
    assert not llama_cpp.llama_vocab_get_add_bos(vocab)
    for token in ids.values():
        assert llama_cpp.llama_vocab_is_control(vocab, token)
    assert llama_cpp.llama_vocab_is_eog(vocab, ids["<|endoftext|>"])
    assert llama_cpp.llama_vocab_is_eog(vocab, ids["<|im_end|>"])
    # Without special=True the text of a control token is just text.
    assert len(llm.tokenize(b"<|fim_prefix|>", add_bos=False, special=False)) > 1


def test_code_round_trips_in_fewer_tokens(llm: Llama) -> None:
    tokens = llm.tokenize(CODE, add_bos=False)
    assert llm.detokenize(tokens) == CODE
    assert len(tokens) < len(CODE)
    pieces = [llm.detokenize([t]) for t in tokens]
    assert b"def" in pieces
    assert b" return" in pieces
    # Any bytes at all survive the byte-level vocabulary.
    odd = "naïve → ✓ 日本\t\r\n\x00\x7f".encode()
    assert llm.detokenize(llm.tokenize(odd, add_bos=False)) == odd


def test_greedy_generation_varies_and_repeats(llm: Llama, model_path: Path) -> None:
    prompt = llm.tokenize(
        b"<|fim_prefix|>" + CODE + b"<|fim_suffix|>\n<|fim_middle|>", add_bos=False, special=True
    )
    first, second = _greedy(model_path, prompt, 16)
    assert first.pieces == second.pieces and first.probs == second.probs
    assert first.completion_tokens == 16 or first.stop_reason == "eos"
    assert len(set(first.pieces)) > 1
    # Peaked, not uniform, next-token distributions.
    assert max(first.probs) > 10.0 / llm.n_vocab()
    assert np.mean(first.probs) > 0.1
