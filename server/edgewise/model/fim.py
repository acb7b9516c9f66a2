"""Fill-in-the-middle marker tokens: from the vocabulary, else known marker strings."""

from __future__ import annotations

from collections.abc import Callable

from edgewise.model.backend import FimTokens

# Marker strings of the model families whose GGUFs may lack the fim_* metadata keys.
KNOWN_MARKERS: tuple[tuple[str, str, str], ...] = (
    ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),  # Qwen2.5-Coder, CodeGemma-ish
    ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),  # StarCoder, SantaCoder
    ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"),  # DeepSeek-Coder
    ("<|fim_begin|>", "<|fim_hole|>", "<|fim_end|>"),
    ("<PRE>", "<SUF>", "<MID>"),  # CodeLlama
)
EXTRA_STOP_MARKERS = ("<|file_sep|>", "<|endoftext|>", "<|fim_pad|>", "<file_sep>", "<|im_end|>")


def single_special(tokenize: Callable[[str], list[int]], text: str) -> int | None:
    ids = tokenize(text)
    return ids[0] if len(ids) == 1 else None


def detect_fim(
    declared: tuple[int, int, int],
    tokenize_special: Callable[[str], list[int]],
) -> FimTokens | None:
    """FIM tokens the vocabulary declares (ids >= 0), else the first known marker set
    whose three strings are each a single special token."""
    pre, suf, mid = declared
    stops = tuple(
        t
        for marker in EXTRA_STOP_MARKERS
        if (t := single_special(tokenize_special, marker)) is not None
    )
    if min(declared) >= 0:
        return FimTokens(pre, suf, mid, stops)
    for markers in KNOWN_MARKERS:
        prefix, suffix, middle = (single_special(tokenize_special, m) for m in markers)
        if prefix is not None and suffix is not None and middle is not None:
            return FimTokens(prefix, suffix, middle, stops)
    return None
