"""Agreement between samples: extra replies drawn for an action (seeded, so the same
request gives the same samples) are compared with the one offered. Two edits agree when
their text is the same after normalising whitespace, or when the edited files have the
same syntax tree (the same nodes and tokens, comments aside)."""

from __future__ import annotations

from tree_sitter import Node

from edgewise.context.languages import LanguageInfo
from edgewise.report.record import Agreement

# Extra samples must be able to differ: with greedy decoding (temperature 0) they are
# drawn at this temperature.
SAMPLE_TEMPERATURE = 0.7
UNSURE_BELOW = 0.5  # fewer than half of the extra samples agree: the action is unsure


def sample_temperature(temperature: float) -> float:
    return temperature if temperature > 0 else SAMPLE_TEMPERATURE


def sample_seeds(seed: int, samples: int) -> list[int]:
    """The seeds of the extra samples (the offered reply uses ``seed`` itself)."""
    return [(seed + n) % 2**32 for n in range(1, samples)]


def normalised(text: str) -> str:
    return " ".join(text.split())


def tree_signature(language: LanguageInfo, text: str) -> tuple[tuple[str, str], ...]:
    """The file's syntax tree as its leaves (type and text), comments left out."""
    tree = language.parser().parse(text.encode("utf-8", "surrogatepass"))
    leaves: list[tuple[str, str]] = []
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            continue
        if node.child_count == 0:
            raw = node.text or b""
            leaves.append((node.type, raw.decode("utf-8", "replace")))
            continue
        stack.extend(reversed(node.children))
    return tuple(leaves)


def agrees(
    language: LanguageInfo | None,
    offered_text: str,
    offered_file: str,
    other_text: str | None,
    other_file: str | None,
) -> str | None:
    """How the other sample agrees with the offered one (``text`` or ``tree``), or None."""
    if other_text is None:
        return None
    if normalised(offered_text) == normalised(other_text):
        return "text"
    if language is not None and other_file is not None:
        if tree_signature(language, offered_file) == tree_signature(language, other_file):
            return "tree"
    return None


def agreement(methods: list[str | None], temperature: float, seeds: list[int]) -> Agreement:
    """The agreement of the extra samples (one method or None per sample)."""
    agreeing = sum(1 for m in methods if m is not None)
    score = agreeing / len(methods) if methods else 1.0
    used = sorted({m for m in methods if m is not None})
    return Agreement(
        samples=len(methods) + 1,
        agreeing=agreeing,
        score=round(score, 4),
        unsure=score < UNSURE_BELOW,
        method=" or ".join(used) if used else "text or tree",
        temperature=temperature,
        seeds=seeds,
    )


def unsure_note(found: Agreement) -> str:
    return f"unsure: {found.agreeing} of {found.samples - 1} other samples agree"
