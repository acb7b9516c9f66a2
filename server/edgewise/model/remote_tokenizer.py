"""The remote model's tokenizer, so prompts are built and counted in exact tokens.

Either a local GGUF holding the model's vocabulary (no weights: fast, no round trip),
or the server's own endpoint: llama-server ``/tokenize`` + ``/detokenize``, vLLM
``/tokenize`` + ``/detokenize``, llama-cpp-python ``/extras/tokenize`` +
``/extras/detokenize``. Server answers are cached (the lines around the cursor repeat
from one keystroke to the next).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

from edgewise.model.backend import ModelError, ModelInfo
from edgewise.model.remote_http import Endpoint

CACHE_ENTRIES = 8192


class Tokenizer(Protocol):
    remote: bool  # True when each call is a round trip to the server

    def tokenize(self, text: str, special: bool) -> list[int]: ...

    def detokenize(self, tokens: list[int]) -> str: ...

    def bos(self) -> list[int]: ...


class LocalVocab:
    """``Llama(path, vocab_only=True)``: the vocabulary of the remote model, on this machine."""

    remote = False

    def __init__(self, path: Path) -> None:
        from edgewise.model.llama import LlamaBackend

        if not path.is_file():
            raise ModelError(f"setting 'remoteTokenizer': no GGUF file at {path}")
        self.vocab = LlamaBackend.load_vocab(path)
        self._lock = threading.Lock()  # one llama.cpp vocabulary, callers on several threads

    def info(self) -> ModelInfo:
        return self.vocab.info()

    def tokenize(self, text: str, special: bool) -> list[int]:
        with self._lock:
            return self.vocab.tokenize(text, special=special)

    def detokenize(self, tokens: list[int]) -> str:
        with self._lock:
            return self.vocab.detokenize(tokens)

    def detokenize_special(self, token: int) -> str:
        with self._lock:
            return self.vocab.detokenize_special(token)

    def bos(self) -> list[int]:
        return self.vocab.bos()

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        with self._lock:
            return self.vocab.render_chat(messages)


class ServerTokenizer:
    """Tokenizes on the server, with a cache in front of it."""

    remote = True

    def __init__(self, endpoint: Endpoint, dialect: str, model: str) -> None:
        self.endpoint = endpoint
        self.dialect = dialect  # llama.cpp | vllm | llama-cpp-python
        self.model = model
        self._cache: OrderedDict[tuple[str, bool], list[int]] = OrderedDict()
        self._lock = threading.Lock()
        self._bos: list[int] | None = None
        self._strip: list[int] = []
        if dialect == "llama-cpp-python":
            # Its /extras/tokenize adds the BOS token when the model wants one: what an
            # empty text gives is that prefix, stripped from every answer.
            self._strip = self._call("")

    def tokenize(self, text: str, special: bool) -> list[int]:
        if not text:
            return []
        key = (text, special)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return list(hit)
        tokens = self._call(text, special)
        with self._lock:
            self._cache[key] = tokens
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return list(tokens)

    def _call(self, text: str, special: bool = True, add_special: bool = False) -> list[int]:
        if self.dialect == "llama.cpp":
            body: dict[str, Any] = {
                "content": text,
                "add_special": add_special,
                "parse_special": special,
            }
            answer = self.endpoint.call("POST", "/tokenize", body)
        elif self.dialect == "vllm":
            body = {"model": self.model, "prompt": text, "add_special_tokens": add_special}
            answer = self.endpoint.call("POST", "/tokenize", body)
        else:  # llama-cpp-python: always parses special tokens
            answer = self.endpoint.call("POST", "/extras/tokenize", {"input": text})
        tokens = answer.get("tokens") if isinstance(answer, dict) else None
        if not isinstance(tokens, list):
            raise ModelError(f"the server at {self.endpoint.shown} answered /tokenize oddly")
        try:
            ids = [int(t["id"]) if isinstance(t, dict) else int(t) for t in tokens]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(
                f"the server at {self.endpoint.shown} answered /tokenize oddly"
            ) from exc
        if self._strip and ids[: len(self._strip)] == self._strip:
            ids = ids[len(self._strip) :]
        return ids

    def detokenize(self, tokens: list[int]) -> str:
        if not tokens:
            return ""
        body: dict[str, Any]
        if self.dialect == "llama.cpp":
            path, body, field = "/detokenize", {"tokens": tokens}, "content"
        elif self.dialect == "vllm":
            path, body, field = "/detokenize", {"model": self.model, "tokens": tokens}, "prompt"
        else:
            path, body, field = "/extras/detokenize", {"tokens": tokens}, "text"
        answer = self.endpoint.call("POST", path, body)
        if not isinstance(answer, dict):
            raise ModelError(f"the server at {self.endpoint.shown} answered {path} oddly")
        return str(answer.get(field, ""))

    def bos(self) -> list[int]:
        """What the server puts before a prompt by itself (BOS, when the model wants it)."""
        if self._bos is None:
            if self.dialect == "llama-cpp-python":
                self._bos = list(self._strip)
            else:
                with_special = self._call("a", True, add_special=True)
                plain = self._call("a", True)
                self._bos = with_special[: len(with_special) - len(plain)]
        return list(self._bos)
