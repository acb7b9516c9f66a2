"""What the code around the cursor points at: identifiers and member accesses, weighted
by how close to the cursor they are, plus the rows edited lately.

Only whole identifiers of the cursor line count (not the word being typed), so the
choice of context does not change at every keystroke and the model's KV cache holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edgewise.context.text_lines import TextLines
from edgewise.context.tokens import TextMemo

IDENT = re.compile(r"[A-Za-z_$][\w$]*")
CHAIN = re.compile(r"[A-Za-z_$][\w$]*(?:[ \t]*(?:\.|->|::)[ \t]*[A-Za-z_$][\w$]*)+")
CHAIN_SPLIT = re.compile(r"[ \t]*(?:\.|->|::)[ \t]*")

ABOVE = 60  # lines above the cursor that give signals
BELOW = 20  # lines below
RECENT_WEIGHT = 0.5  # identifiers on lines edited lately


def closeness(distance: int, below: bool = False) -> float:
    """Weight of an identifier ``distance`` lines from the cursor."""
    return (0.7 if below else 1.0) / (1.0 + distance / 8.0)


Terms = tuple[tuple[str, ...], tuple[tuple[str, str], ...]]


def terms_of(text: str) -> Terms:
    """The identifiers and (qualifier, member) pairs of a text."""
    names = tuple(IDENT.findall(text))
    members: list[tuple[str, str]] = []
    if "." in text or "->" in text or "::" in text:
        for match in CHAIN.finditer(text):
            parts = CHAIN_SPLIT.split(match.group())
            for index in range(1, len(parts)):
                members.append((".".join(parts[:index]), parts[index]))
    return names, tuple(members)


class TermCache:
    """Terms per line text: a keystroke re-reads only the line it changed. Bounded in
    bytes, least recently used out first."""

    def __init__(self, max_bytes: int = 2_000_000) -> None:
        self._terms: TextMemo[Terms] = TextMemo(max_bytes)

    def __call__(self, text: str) -> Terms:
        terms = self._terms.get(text)
        if terms is None:
            terms = terms_of(text)
            names, members = terms
            self._terms.put(text, terms, 64 * (len(names) + 2 * len(members)))
        return terms


@dataclass
class Signals:
    names: dict[str, float] = field(default_factory=dict)
    # (qualifier, member) -> weight, for `os.path.join` both ("os", "path") and
    # ("os.path", "join")
    members: dict[tuple[str, str], float] = field(default_factory=dict)
    recent_rows: list[int] = field(default_factory=list)

    def add(self, terms: Terms, weight: float) -> None:
        names, members = terms
        table = self.names
        for name in names:
            table[name] = table.get(name, 0.0) + weight
        pairs = self.members
        for key in members:
            pairs[key] = pairs.get(key, 0.0) + weight


def whole_words(line_prefix: str) -> str:
    """The cursor line before the cursor without the word being typed."""
    match = re.search(r"[\w$]+$", line_prefix)
    return line_prefix[: match.start()] if match else line_prefix


_ABOVE_WEIGHTS = [closeness(d) for d in range(ABOVE + 1)]
_BELOW_WEIGHTS = [closeness(d, below=True) for d in range(BELOW + 1)]


def gather(
    lines: TextLines,
    row: int,
    line_prefix: str,
    line_suffix: str,
    recent_rows: list[int],
    terms: TermCache | None = None,
) -> Signals:
    read = terms or terms_of
    signals = Signals(recent_rows=list(recent_rows))
    signals.add(terms_of(whole_words(line_prefix)), 2.0)
    signals.add(terms_of(line_suffix), 1.5)
    text = lines.lines
    for distance in range(1, min(ABOVE, row) + 1):
        signals.add(read(text[row - distance]), _ABOVE_WEIGHTS[distance])
    for distance in range(1, min(BELOW, len(text) - 1 - row) + 1):
        signals.add(read(text[row + distance]), _BELOW_WEIGHTS[distance])
    for recent in recent_rows:
        if 0 <= recent < len(text) and abs(recent - row) > ABOVE:
            signals.add(read(text[recent]), RECENT_WEIGHT)
    return signals
