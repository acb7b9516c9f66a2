"""Answers a completion without the model when it is already known.

Two mechanisms, both per engine (never module state):

- :class:`ResultCache`: a bounded LRU of model results keyed by the exact prompt tokens
  and the generation parameters. The same prompt again (re-request, undo, backspace and
  retype) is answered from it.
- :class:`ShownSuggestions`: the suggestion last shown in each document. When the user
  types the first characters of it (same document, same line, nothing else changed),
  the rest of it is the answer (type-through, as llama.vim does).
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from edgewise.context.positions import units
from edgewise.model.backend import GenerationResult
from edgewise.report.record import ProducedBy

RESULT_CACHE_ENTRIES = 256


@dataclass(frozen=True)
class CachedText:
    """Generated text with each token's probability, and where it came from."""

    text: str
    pieces: tuple[str, ...]
    probs: tuple[float, ...]
    first_margin: float | None
    stop_reason: str
    report_id: str
    producer: ProducedBy | None = None  # what the model call that made it cost

    def without_first(self, chars: int) -> CachedText:
        """The rest after the first ``chars`` characters (a cut token keeps its prob)."""
        pieces: list[str] = []
        probs: list[float] = []
        skip = chars
        for piece, prob in zip(self.pieces, self.probs, strict=True):
            if skip >= len(piece):
                skip -= len(piece)
                continue
            pieces.append(piece[skip:])
            probs.append(prob)
            skip = 0
        return CachedText(
            self.text[chars:],
            tuple(pieces),
            tuple(probs),
            None,
            self.stop_reason,
            self.report_id,
            self.producer,
        )

    def first(self, chars: int) -> CachedText:
        """The first ``chars`` characters (what was kept of the model's text)."""
        if chars >= len(self.text):
            return self
        pieces: list[str] = []
        probs: list[float] = []
        used = 0
        for piece, prob in zip(self.pieces, self.probs, strict=True):
            if used >= chars:
                break
            take = piece[: chars - used]
            pieces.append(take)
            probs.append(prob)
            used += len(take)
        return CachedText(
            self.text[:chars],
            tuple(pieces),
            tuple(probs),
            self.first_margin,
            self.stop_reason,
            self.report_id,
            self.producer,
        )

    def as_result(self) -> GenerationResult:
        """A result that cost no model work: no tokens, no time."""
        return GenerationResult(
            text=self.text,
            pieces=list(self.pieces),
            probs=list(self.probs),
            first_margin=self.first_margin,
            prompt_tokens=0,
            cached_tokens=0,
            completion_tokens=0,
            prompt_ms=0.0,
            generation_ms=0.0,
            total_ms=0.0,
            queue_ms=0.0,
            stop_reason=self.stop_reason,
        )


def cached_text(result: GenerationResult, report: dict[str, Any]) -> CachedText:
    """The model's text of ``result``, with what its call cost (from its ``report``)."""
    producer = ProducedBy.of(report)
    return CachedText(
        result.text,
        tuple(result.pieces),
        tuple(result.probs),
        result.first_margin,
        result.stop_reason,
        producer.report,
        producer,
    )


# prompt tokens (see :func:`token_key`), max tokens, temperature, seed, multi-line, heal prefix
CacheKey = tuple[bytes, int, float, int, bool, str]


def token_key(tokens: list[int]) -> bytes:
    """The prompt tokens as 4 bytes each: a tuple of Python ints costs ~36 bytes a token
    (a 1,000-token prompt, 36 KB per cache entry); the key stays exact."""
    return array("I", tokens).tobytes()


class ResultCache:
    """Model results by prompt tokens + parameters; least recently used entries go first."""

    def __init__(self, capacity: int = RESULT_CACHE_ENTRIES) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[CacheKey, CachedText] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> CachedText | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: CacheKey, entry: CachedText) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True)
class Shown:
    """A suggestion as shown: the document text, where the cursor was, what was offered."""

    text: str
    offset: int  # character offset of the cursor in ``text``
    line: int
    character: int  # LSP column, in the negotiated encoding
    suggestion: CachedText
    prompt_format: str = "fim"


class ShownSuggestions:
    """The last suggestion shown per document, for type-through."""

    def __init__(self) -> None:
        self._shown: dict[str, Shown] = {}

    def remember(self, uri: str, shown: Shown) -> None:
        if shown.suggestion.text:
            self._shown[uri] = shown
        else:
            self._shown.pop(uri, None)

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def clear(self) -> None:
        self._shown.clear()

    def __len__(self) -> int:
        return len(self._shown)

    def match(
        self, uri: str, text: str, line: int, character: int, encoding: str
    ) -> tuple[Shown, str] | None:
        """(what was shown, the characters typed since) when ``text`` is the shown text
        with a prefix of the suggestion typed at the cursor, on the same line, and the
        cursor right after it; None otherwise. The suggestion must not be used up."""
        shown = self._shown.get(uri)
        if shown is None or line != shown.line:
            return None
        typed_len = len(text) - len(shown.text)
        suggestion = shown.suggestion.text
        if typed_len < 0 or typed_len >= len(suggestion):
            return None
        typed = suggestion[:typed_len]
        if "\n" in typed or "\r" in typed:
            return None
        if character != shown.character + units(typed, encoding):
            return None
        end = shown.offset + typed_len
        if (
            text[shown.offset : end] != typed
            or text[end:] != shown.text[shown.offset :]
            or text[: shown.offset] != shown.text[: shown.offset]
        ):
            return None
        return shown, typed
