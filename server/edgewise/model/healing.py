"""Token healing: a cursor in the middle of a word leaves half a token at the end of the
prompt, and models continue badly from there. The prompt is backed up to the last
whole-token boundary and the first generated token(s) are constrained to spell out the
removed characters; those characters are then stripped from the shown text.

``PieceIndex`` answers "which tokens are compatible with this text" without a Python
loop over the vocabulary: every token's bytes are read once and sorted, so the tokens
that *start with* the text are one contiguous run found by binary search, and the
tokens that are a *prefix of* it are found by a dictionary lookup per prefix length.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


class PieceIndex:
    """Token byte pieces of one vocabulary, sorted for prefix queries."""

    def __init__(self, pieces: Sequence[bytes], excluded: np.ndarray | None = None) -> None:
        self.n_vocab = len(pieces)
        usable = [
            (piece, token)
            for token, piece in enumerate(pieces)
            if piece and (excluded is None or not excluded[token])
        ]
        usable.sort()
        self._sorted = [piece for piece, _ in usable]
        self._ids = np.array([token for _, token in usable], dtype=np.int64)
        self._exact: dict[bytes, list[int]] = {}
        for piece, token in usable:
            self._exact.setdefault(piece, []).append(token)

    def compatible(self, want: bytes) -> np.ndarray:
        """Token ids whose bytes start with ``want`` or are a non-empty prefix of it."""
        if not want:
            return np.zeros(0, dtype=np.int64)
        lo = bisect.bisect_left(self._sorted, want)
        upper = _next_prefix(want)
        hi = len(self._sorted) if upper is None else bisect.bisect_left(self._sorted, upper)
        found = [self._ids[lo:hi]]
        for end in range(1, len(want)):
            exact = self._exact.get(want[:end])
            if exact:
                found.append(np.array(exact, dtype=np.int64))
        return np.unique(np.concatenate(found))

    def mask(self, want: bytes) -> np.ndarray:
        out = np.zeros(self.n_vocab, dtype=bool)
        out[self.compatible(want)] = True
        return out


def _next_prefix(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string that starts with ``prefix``."""
    data = bytearray(prefix)
    while data:
        if data[-1] < 0xFF:
            data[-1] += 1
            return bytes(data)
        data.pop()
    return None


@dataclass(frozen=True)
class HealedPrompt:
    tokens: list[int]  # the prompt without its last token
    heal_prefix: str  # the text of the removed token, to be regenerated


def heal_prompt(tokens: list[int], detokenize_one: Callable[[int], str]) -> HealedPrompt | None:
    """Back the prompt up by its last token when that token is text (not a marker such as
    FIM's "middle") and whole UTF-8. It may be a partial word (``names.append(n``), a
    space the model would rather have glued to the next word (``x ``), or an indentation
    the tokenizer merges with the newline before it: in each case the model then picks
    the natural token, constrained to spell the characters already typed."""
    if len(tokens) < 2:
        return None
    text = detokenize_one(tokens[-1])
    if not text or "\ufffd" in text:
        return None  # the cursor splits a multi-byte character across tokens
    return HealedPrompt(tokens[:-1], text)
