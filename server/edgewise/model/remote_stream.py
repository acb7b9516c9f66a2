"""Reads the streamed chunks of the OpenAI-compatible dialects into one generation.

Understood shapes (one parser, whichever the server speaks):
- ``/v1/completions`` chunks: ``choices[0].text`` with legacy ``logprobs``
  (``tokens``/``token_logprobs``/``top_logprobs``: llama-cpp-python, vLLM, OpenAI) or
  ``logprobs.content`` (llama-server);
- ``/v1/chat/completions`` chunks: ``choices[0].delta.content`` with ``logprobs.content``;
- llama-server's native ``/infill`` chunks: ``content``, ``completion_probabilities``,
  ``stop``, ``tokens_evaluated``/``tokens_cached``;
- ``usage`` (any chunk, e.g. with ``stream_options.include_usage``) and llama-server's
  ``timings`` (``prompt_n``, ``prompt_ms``, ``predicted_n``, ``predicted_ms``, ``cache_n``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from typing import Any

from edgewise.model.remote_http import RemoteError

NATIVE_STOP = {"eos": "eos", "word": "stop", "limit": "max_tokens"}
OAI_STOP = {"stop": "eos", "length": "max_tokens", "eos": "eos"}


@dataclass
class TokenProb:
    text: str
    logprob: float | None
    top: list[float]  # logprobs of the most likely tokens at that step (may be empty)


@dataclass
class StreamState:
    """Everything one streamed generation has told us so far."""

    started: float = field(default_factory=time.monotonic)
    first_at: float | None = None
    text: str = ""
    pieces: list[str] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    first_margin: float | None = None
    tokens: int = 0  # tokens counted from per-token logprobs (0 when there are none)
    chunks: int = 0  # chunks that carried text
    missing_logprobs: bool = False  # some text came without a probability
    finish: str | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    native: dict[str, Any] = field(default_factory=dict)
    events: int = 0

    def reset(self) -> None:
        """Back to a fresh state, in place (the caller holds this object)."""
        fresh = StreamState()
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(fresh, name))

    def feed(self, event: dict[str, Any]) -> None:
        self.events += 1
        error = event.get("error")
        if error:
            message = error.get("message", error) if isinstance(error, dict) else error
            raise RemoteError(f"the server reported an error mid-stream: {str(message)[:300]}")
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        if isinstance(event.get("timings"), dict):
            self.timings = event["timings"]
        choices = event.get("choices")
        if isinstance(choices, list):
            if not choices:
                return  # the usage-only chunk of stream_options.include_usage
            choice = choices[0] or {}
            delta = choice.get("delta") or {}
            text = choice.get("text")
            if text is None:
                text = delta.get("content") or ""
            self._add(str(text), _oai_tokens(choice.get("logprobs")))
            if choice.get("finish_reason"):
                self.finish = OAI_STOP.get(choice["finish_reason"], choice["finish_reason"])
            return
        if "content" in event:  # llama-server native (/infill, /completion)
            self._add(str(event.get("content") or ""), _native_tokens(event))
            for key in ("tokens_evaluated", "tokens_cached", "tokens_predicted"):
                if isinstance(event.get(key), int):
                    self.native[key] = event[key]
            if event.get("stop"):
                self.finish = NATIVE_STOP.get(str(event.get("stop_type")), "eos")

    def _add(self, text: str, tokens: list[TokenProb] | None) -> None:
        if text and self.first_at is None:
            self.first_at = time.monotonic()
        if tokens:
            if self.first_at is None:
                self.first_at = time.monotonic()
            if self.first_margin is None and self.tokens == 0:
                self.first_margin = _margin(tokens[0].top)
            self.tokens += len(tokens)
            if any(t.logprob is None for t in tokens):
                self.missing_logprobs = True
            if "".join(t.text for t in tokens) == text:
                pieces = [t.text for t in tokens]
            else:  # the chunk's text is what counts; probabilities stay per token
                pieces = [text] + [""] * (len(tokens) - 1)
            self.pieces.extend(pieces)
            self.probs.extend(math.exp(t.logprob) if t.logprob is not None else 0.0 for t in tokens)
        elif text:
            self.missing_logprobs = True
            self.pieces.append(text)
        if text:
            self.chunks += 1
        self.text += text

    def truncate(self, keep: int) -> None:
        """Keep the first ``keep`` characters (a client-side stop), and their tokens."""
        pieces: list[str] = []
        probs: list[float] = []
        used = 0
        with_probs = len(self.probs) == len(self.pieces)
        for index, piece in enumerate(self.pieces):
            if used >= keep:
                break
            take = piece[: keep - used]
            pieces.append(take)
            if with_probs:
                probs.append(self.probs[index])
            used += len(take)
        self.pieces, self.text = pieces, self.text[:keep]
        if with_probs:
            self.probs = probs

    def past_limit(self, max_tokens: int, token_chars: int) -> int | None:
        """The characters to keep when the answer went past ``max_tokens`` tokens (each
        piece is one token, or one chunk when the server gave no tokens) or past
        ``token_chars`` characters a token; None while within both."""
        keep: int | None = None
        if len(self.pieces) > max_tokens:
            keep = sum(len(piece) for piece in self.pieces[:max_tokens])
        cap = max_tokens * token_chars
        if len(self.text) > cap:
            keep = cap if keep is None else min(keep, cap)
        return keep

    @property
    def has_logprobs(self) -> bool:
        return bool(self.probs) and not self.missing_logprobs


def _oai_tokens(logprobs: Any) -> list[TokenProb] | None:
    if not isinstance(logprobs, dict):
        return None
    content = logprobs.get("content")
    if isinstance(content, list):
        return [_entry(item) for item in content if isinstance(item, dict)]
    tokens = logprobs.get("tokens")
    values = logprobs.get("token_logprobs")
    if not isinstance(tokens, list) or not isinstance(values, list):
        return None
    tops = logprobs.get("top_logprobs") or [None] * len(tokens)
    out = []
    for token, value, top in zip(tokens, values, tops, strict=False):
        top_values = [float(v) for v in top.values()] if isinstance(top, dict) else []
        out.append(TokenProb(str(token), _float(value), top_values))
    return out


def _native_tokens(event: dict[str, Any]) -> list[TokenProb] | None:
    items = event.get("completion_probabilities")
    if not isinstance(items, list):
        return None
    return [_entry(item) for item in items if isinstance(item, dict)]


def _entry(item: dict[str, Any]) -> TokenProb:
    """One token of the llama-server / chat shape (``logprob`` or post-sampling ``prob``)."""
    if "logprob" in item:
        value = _float(item.get("logprob"))
    else:
        prob = _float(item.get("prob"))
        value = math.log(prob) if prob else None
    top_items = item.get("top_logprobs") or item.get("top_probs") or []
    top: list[float] = []
    for entry in top_items:
        if not isinstance(entry, dict):
            continue
        if "logprob" in entry and _float(entry["logprob"]) is not None:
            top.append(float(entry["logprob"]))
        elif _float(entry.get("prob")):
            top.append(math.log(float(entry["prob"])))
    return TokenProb(str(item.get("token", "")), value, top)


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _margin(top: list[float]) -> float | None:
    """Top-1 minus top-2 probability of the first step; unknown with fewer than two."""
    if len(top) < 2:
        return None
    best = sorted((math.exp(v) for v in top), reverse=True)
    return best[0] - best[1]
