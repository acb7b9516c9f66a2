"""The embedded backend: llama.cpp in this process, owned by one worker thread.

One ``Llama`` is one llama.cpp context and must never be used from two threads, so
every model call runs on a single worker thread fed by a queue (a one-thread
executor). Each generated token's probability is read from the last logits row of the
context (no ``logits_all``), and the KV cache is reused for the longest common token
prefix with the previous prompt (unless the request says not to).
``GenerationRequest.heal_prefix`` constrains the first generated tokens
to spell out text removed from the end of the prompt (token healing, see healing.py).
"""

from __future__ import annotations

import codecs
import concurrent.futures
import contextlib
import ctypes
import dataclasses
import io
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgewise.model.backend import (
    Cancelled,
    GenerationRequest,
    GenerationResult,
    ModelError,
    ModelInfo,
)
from edgewise.model.fim import detect_fim
from edgewise.model.healing import PieceIndex
from edgewise.model.registry import SETTING_HINT, check_gguf, file_sha256
from edgewise.model.stops import stop_reason as why_stopped

if TYPE_CHECKING:
    from edgewise.model.chat_template import ChatTemplate


class LlamaBackend:
    """A loaded GGUF model. Create with :meth:`load` (runs on the worker thread)."""

    def __init__(self, llm: Any, path: Path, sha256: str, name: str | None = None) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self._llm = llm
        self._vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._n_vocab = int(llm.n_vocab())
        self._eog = np.array(
            [bool(llama_cpp.llama_vocab_is_eog(self._vocab, i)) for i in range(self._n_vocab)]
        )
        metadata: dict[str, str] = dict(llm.metadata)
        declared = (
            llama_cpp.llama_vocab_fim_pre(self._vocab),
            llama_cpp.llama_vocab_fim_suf(self._vocab),
            llama_cpp.llama_vocab_fim_mid(self._vocab),
        )
        fim = detect_fim(declared, lambda s: self.tokenize(s, special=True))
        if fim is not None:
            for stop in fim.extra_stops:
                self._eog[stop] = True
        self._info = ModelInfo(
            name=name or metadata.get("general.name") or path.stem,
            path=str(path),
            sha256=sha256,
            backend="embedded",
            context_length=int(llm.n_ctx()),
            fim=fim,
            chat_template=metadata.get("tokenizer.chat_template"),
            n_vocab=self._n_vocab,
            token_healing=True,
        )
        self._piece_cache: dict[int, bytes] = {}
        self._piece_index: PieceIndex | None = None
        self._chat_formatter: ChatTemplate | None = None

    @classmethod
    def load(
        cls,
        path: Path,
        n_ctx: int,
        threads: int,
        seed: int,
        sha_cache: Path | None,
        name: str | None = None,
        extra_buffers: bool = True,
    ) -> LlamaBackend:
        """``extra_buffers=False`` loads without llama.cpp's extra CPU buffer types (the
        repacked AMX/AVX layouts): see cpu_safety.py."""
        check_gguf(path)
        import llama_cpp

        quiet_llama_logs()
        n_threads, n_threads_batch = thread_counts(threads, os.cpu_count() or 1)
        try:
            with quiet_python_stderr(), model_params(extra_buffers):
                llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_batch=512,
                    n_threads=n_threads,
                    n_threads_batch=n_threads_batch,
                    seed=seed,
                    logits_all=False,
                    verbose=True,  # see quiet_python_stderr: verbose=False is unsafe here
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"could not load model {path}: llama.cpp rejected the file "
                f"(truncated or corrupt GGUF, or an unsupported architecture); {SETTING_HINT}"
            ) from exc
        backend = cls(llm, path, file_sha256(path, sha_cache), name)
        backend.piece_index()  # built now so the first healed completion is not slower
        return backend

    @classmethod
    def load_vocab(cls, path: Path, context_length: int | None = None) -> LlamaBackend:
        """Just the vocabulary (no weights): enough to build and count prompts;
        ``context_length``: the context the model is run with (``contextLength``), which
        the prompt budget leaves room in (a vocabulary alone has none of its own)."""
        check_gguf(path)
        import llama_cpp

        quiet_llama_logs()
        try:
            with quiet_python_stderr():
                llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=True)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"could not read the vocabulary of {path}: {exc}") from exc
        backend = cls(llm, path, "unknown")
        if context_length is not None:
            backend._info = dataclasses.replace(backend._info, context_length=context_length)
        return backend

    # --- tokenizer -------------------------------------------------------------------

    def info(self) -> ModelInfo:
        return self._info

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        buffer, n = self._tokenize(text, special)
        return buffer[:n] if n else []

    def count_tokens(self, text: str) -> int:
        # the count only: a list of a 10,000-line file's 190k tokens is built holding the
        # GIL (~10 ms), which stalled the event loop while the user typed
        return self._tokenize(text, False)[1]

    def _tokenize(self, text: str, special: bool) -> tuple[ctypes.Array[ctypes.c_int32], int]:
        # llama_tokenize straight into a buffer of the right size: Llama.tokenize sizes
        # its buffer by n_ctx_train (0 for a vocab-only GGUF: every text then tokenized
        # twice; 32k zeroed ints for a real model), which made prompt assembly slow.
        data = text.encode("utf-8", "surrogatepass")
        size = len(data) + 8
        buffer = (self._lib.llama_token * size)()
        if not text:
            return buffer, 0
        n = self._lib.llama_tokenize(self._vocab, data, len(data), buffer, size, False, special)
        if n < 0:
            size = -n
            buffer = (self._lib.llama_token * size)()
            n = self._lib.llama_tokenize(self._vocab, data, len(data), buffer, size, False, special)
        return buffer, n

    def token_bytes(self, token: int) -> bytes:
        piece = self._piece_cache.get(token)
        if piece is None:
            buf = ctypes.create_string_buffer(256)
            n = self._lib.llama_token_to_piece(self._vocab, token, buf, 256, 0, False)
            piece = buf.raw[: max(n, 0)]
            self._piece_cache[token] = piece
        return piece

    def piece_index(self) -> PieceIndex:
        """Every token's bytes, sorted for token healing (built once, ~0.1 s)."""
        if self._piece_index is None:
            pieces = [self.token_bytes(t) for t in range(self._n_vocab)]
            self._piece_index = PieceIndex(pieces, excluded=self._eog)
        return self._piece_index

    def detokenize(self, tokens: list[int]) -> str:
        return b"".join(self.token_bytes(t) for t in tokens).decode("utf-8", "replace")

    def bos(self) -> list[int]:
        if self._lib.llama_vocab_get_add_bos(self._vocab):
            bos = self._lib.llama_vocab_bos(self._vocab)
            if bos >= 0:
                return [int(bos)]
        return []

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        template = self._info.chat_template
        if not template:
            raise ModelError(f"model {self._info.name} has no chat template in its GGUF metadata")
        if self._chat_formatter is None:
            from edgewise.model.chat_template import ChatTemplate

            eos = self._lib.llama_vocab_eos(self._vocab)
            bos = self._lib.llama_vocab_bos(self._vocab)
            self._chat_formatter = ChatTemplate(
                template,
                eos_token=self.detokenize_special(eos),
                bos_token=self.detokenize_special(bos),
                source=f"model {self._info.name}",
            )
        return self._chat_formatter.render(messages)

    def detokenize_special(self, token: int) -> str:
        if token < 0:
            return ""
        piece: bytes = self._llm.detokenize([token], special=True)
        return piece.decode("utf-8", "replace")

    # --- generation --------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> GenerationResult:
        started = time.monotonic()
        if request.cancel.is_set():
            raise Cancelled()
        llm = self._llm
        prompt = np.asarray(request.prompt, dtype=np.intc)
        n_ctx = int(llm.n_ctx())
        if len(prompt) == 0:
            raise ModelError("empty prompt")
        if len(prompt) + 1 > n_ctx:
            raise ModelError(
                f"prompt of {len(prompt)} tokens does not fit the context of {n_ctx} tokens; "
                "lower `contextBudget` or raise `contextLength`"
            )
        max_tokens = max(0, min(request.max_tokens, n_ctx - len(prompt) - 1))
        reused = self._reuse(prompt, request.reuse_prefix)
        deadline = request.deadline
        prompt_deadline = request.prompt_deadline or deadline

        def interrupted() -> bool:
            return request.cancel.is_set() or (
                prompt_deadline is not None and time.monotonic() > prompt_deadline
            )

        if not self._evaluate(prompt, interrupted):
            # stopped before the prompt was evaluated: what was evaluated stays in the
            # cache for the next request (its common prefix)
            now = time.monotonic()
            return GenerationResult(
                text="",
                pieces=[],
                probs=[],
                first_margin=None,
                prompt_tokens=len(prompt),
                cached_tokens=reused,
                completion_tokens=0,
                prompt_ms=(now - started) * 1000.0,
                generation_ms=0.0,
                total_ms=(now - started) * 1000.0,
                queue_ms=0.0,
                stop_reason="cancelled" if request.cancel.is_set() else "time",
                evaluated_tokens=int(llm.n_tokens),
            )
        prompt_done = time.monotonic()
        if deadline is not None and request.min_generation_ms > 0:
            deadline = max(deadline, prompt_done + request.min_generation_ms / 1000.0)

        rng = np.random.default_rng(request.seed)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = request.heal_prefix.encode("utf-8")  # still to be spelled out (healing)
        pieces: list[str] = []
        probs: list[float] = []
        text = ""
        generated = 0
        first_margin: float | None = None
        stop_reason = "max_tokens"
        for step in range(max_tokens):
            if request.cancel.is_set():
                stop_reason = "cancelled"
                break
            if deadline is not None and time.monotonic() > deadline:
                stop_reason = "time"
                break
            ptr = self._lib.llama_get_logits_ith(llm.ctx, -1)
            logits = np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).astype(np.float64)
            allowed = self.piece_index().compatible(pending) if pending else None
            if allowed is not None and len(allowed):
                # healing: the choice and its probability are conditional on the
                # token spelling the typed characters
                sub = _softmax(logits[allowed])
                choice = _pick(logits[allowed], request.temperature, rng)
                token, prob = int(allowed[choice]), float(sub[choice])
                dist = sub
            else:
                dist = _softmax(logits)
                token = _pick(logits, request.temperature, rng)
                prob = float(dist[token])
            if step == 0:
                top2 = np.partition(dist, -2)[-2:] if len(dist) > 1 else np.array([0.0, 1.0])
                first_margin = float(top2[1] - top2[0])
            generated += 1
            if self._eog[token]:
                stop_reason = "eos"
                break
            visible = self.token_bytes(token)
            if pending:
                if visible.startswith(pending):
                    visible, pending = visible[len(pending) :], b""
                else:  # the token is a prefix of the typed characters
                    visible, pending = b"", pending[len(visible) :]
            piece = decoder.decode(visible)
            pieces.append(piece)
            probs.append(prob)
            text += piece
            if request.stop is not None:
                keep = request.stop(text)
                if keep is not None:
                    stop_reason = why_stopped(request.stop, text)
                    pieces, probs = _truncate(pieces, probs, keep)
                    text = text[:keep]
                    break
            if step + 1 < max_tokens:
                llm.eval([token])
        finished = time.monotonic()
        return GenerationResult(
            text=text,
            pieces=pieces,
            probs=probs,
            first_margin=first_margin,
            prompt_tokens=len(prompt),
            cached_tokens=reused,
            completion_tokens=generated,
            prompt_ms=(prompt_done - started) * 1000.0,
            generation_ms=(finished - prompt_done) * 1000.0,
            total_ms=(finished - started) * 1000.0,
            queue_ms=0.0,
            stop_reason=stop_reason,
        )

    def _common_prefix(self, prompt: np.ndarray) -> int:
        """How many leading tokens of ``prompt`` the cache already holds."""
        llm = self._llm
        previous = llm.input_ids[: llm.n_tokens]
        n = min(len(previous), len(prompt))
        mismatch = np.nonzero(previous[:n] != prompt[:n])[0]
        return int(mismatch[0]) if len(mismatch) else n

    def _reuse(self, prompt: np.ndarray, reuse_prefix: bool) -> int:
        """Keeps the cache of the longest common prefix with what was evaluated before
        (at least one token is evaluated again, for fresh logits); returns its length."""
        reused = max(min(self._common_prefix(prompt), len(prompt) - 1), 0)
        if not reuse_prefix:
            reused = 0
        self._llm.n_tokens = reused
        return reused

    def _evaluate(
        self, prompt: np.ndarray, interrupted: Callable[[], bool], chunk: int = 0
    ) -> bool:
        """Evaluates the prompt from the cached prefix on, in chunks of ``chunk`` tokens
        (PROMPT_CHUNK by default); stops between chunks when ``interrupted()`` (the
        evaluated part stays in the cache). True when the whole prompt was evaluated."""
        llm = self._llm
        step = chunk or PROMPT_CHUNK
        while llm.n_tokens < len(prompt):
            if interrupted():
                return False
            start = int(llm.n_tokens)
            llm.eval(prompt[start : start + step].tolist())
        return True

    def prefill(self, tokens: list[int], interrupted: Callable[[], bool]) -> int:
        """Evaluates ``tokens`` into the cache ahead of a request whose prompt starts with
        them (while the user is idle); stops when ``interrupted()``. Returns how many of
        them are in the cache."""
        if not tokens or len(tokens) + 1 > int(self._llm.n_ctx()):
            return 0
        prompt = np.asarray(tokens, dtype=np.intc)
        self._llm.n_tokens = self._common_prefix(prompt)
        self._evaluate(prompt, interrupted, PREFILL_CHUNK)
        return int(self._llm.n_tokens)

    def close(self) -> None:
        self._llm.close()


# Prompt tokens evaluated per step: between steps a request can be superseded and the
# time cap checked (one llama.cpp batch of 512 took seconds on a slow CPU).
PROMPT_CHUNK = 64
# A prefill runs while nobody waits, and stops for the next request: in smaller steps, so
# that it yields sooner (SmolLM2 here: 16 tokens take ~90 ms, 64 take ~330 ms; 6 % slower)
PREFILL_CHUNK = 16


@contextlib.contextmanager
def model_params(extra_buffers: bool) -> Iterator[None]:
    """``Llama`` builds its model parameters from ``llama_model_default_params()``; with
    ``extra_buffers`` off, that call returns them with ``use_extra_bufts`` off."""
    if extra_buffers:
        yield
        return
    import llama_cpp.llama_cpp as lib  # the module Llama reads it from

    original = lib.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    lib.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        lib.llama_model_default_params = original


def thread_counts(setting: int, cores: int) -> tuple[int, int]:
    """(generation threads, prompt threads). A set value is used for both. Unset: the
    prompt (one big batch) uses every core; generating one token at a time uses half of
    them, at most 4. Measured on 2 busy cores (bench/latency_real.py): two generation
    threads that wait for each other behind other processes took 835 ms per keystroke at
    p50 and 22.8 s at p95; one took 190 ms and 262 ms."""
    if setting > 0:
        return setting, setting
    cores = max(cores, 1)
    return max(1, min(4, cores // 2)), cores


_LLAMA_LOG = logging.getLogger("edgewise.llama_cpp")
_LOG_HOOK: list[Any] = []  # keeps the ctypes callback alive


def _log_line(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    _LLAMA_LOG.debug("%s", text.decode("utf-8", "replace").rstrip())


def quiet_llama_logs() -> None:
    """Route llama.cpp's own log lines to a debug logger instead of stderr."""
    if _LOG_HOOK:
        return
    import llama_cpp

    hook = llama_cpp.llama_log_callback(_log_line)
    _LOG_HOOK.append(hook)
    llama_cpp.llama_log_set(hook, ctypes.c_void_p(0))


@contextlib.contextmanager
def quiet_python_stderr() -> Iterator[None]:
    """Silence llama-cpp-python's own prints while a model loads.

    Never load with ``verbose=False``: llama-cpp-python then redirects the process's file
    descriptors 1 and 2 to /dev/null during the load, and every LSP message the server
    writes to stdout in that window (from other threads) is lost — measured here as
    unanswered requests. With ``verbose=True`` its C logs go to our log hook and its
    Python prints to ``sys.stderr``, which is swapped here (not the file descriptor).
    """
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    exp = np.exp(shifted)
    probs: np.ndarray = exp / exp.sum()
    return probs


def _pick(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature <= 0:
        return int(np.argmax(logits))
    scaled = _softmax(logits / temperature)
    return int(rng.choice(len(scaled), p=scaled))


def _truncate(pieces: list[str], probs: list[float], keep: int) -> tuple[list[str], list[float]]:
    out_pieces: list[str] = []
    out_probs: list[float] = []
    used = 0
    for piece, prob in zip(pieces, probs, strict=True):
        if used >= keep:
            break
        take = piece[: keep - used]
        out_pieces.append(take)
        out_probs.append(prob)
        used += len(take)
    return out_pieces, out_probs


class ModelWorker:
    """The one thread that owns a backend; everything model-bound runs here in order."""

    def __init__(self) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="edgewise-model"
        )

    def submit(self, fn: Any, *args: Any) -> concurrent.futures.Future[Any]:
        return self._executor.submit(fn, *args)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
