"""Snippets of other open files that resemble the code at the cursor.

As Copilot and Cody do: the words of the lines above the cursor (the query) are compared
with every window of ``WINDOW_LINES`` lines of each other open document by Jaccard
similarity of their word sets (identifiers, keywords left out); each document gives its
best window, and the best windows over ``MIN_SCORE`` compete for the prompt's budget
(``context/prompt.py``). The cursor line is not part of the query, so typing along it
never changes the snippets (KV-cache reuse). Each document's word sets per line are kept
until its text changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WINDOW_LINES = 12  # lines of a snippet, and of the query above the cursor
MIN_SCORE = 0.08  # a window less similar than this is never offered
MAX_SNIPPETS = 4
MAX_LINES = 20_000  # of a document: a longer one is not searched
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STOP_WORDS = frozenset(
    """and as assert async await break case catch class const continue def default del
    do elif else enum except export extends false final finally fn for from func function
    go if impl implements import in interface is let match mod new nil none not null or
    package pass pub public private protected raise return self static struct super switch
    this throw true try type typeof use var void while with yield int str bool string
    void char float double long""".split()
)


def words_of(line: str) -> frozenset[str]:
    """The identifiers of ``line`` (lower case), keywords and one-letter names left out."""
    return frozenset(
        w for w in (m.lower() for m in _WORD.findall(line)) if len(w) > 1 and w not in STOP_WORDS
    )


@dataclass(frozen=True)
class Snippet:
    uri: str
    start_line: int  # 0-based, inclusive
    end_line: int  # inclusive
    text: str  # the lines, each ending with a line break
    score: float  # Jaccard similarity with the query


def query_words(lines: Sequence[str], line: int, window: int = WINDOW_LINES) -> frozenset[str]:
    """The words of the ``window`` lines above ``line`` (the cursor line left out)."""
    out: set[str] = set()
    for text in lines[max(line - window, 0) : line]:
        out |= words_of(text)
    return frozenset(out)


def best_window(
    query: frozenset[str], line_words: Sequence[frozenset[str]], window: int = WINDOW_LINES
) -> tuple[float, int]:
    """The best Jaccard similarity of ``query`` with a window of ``window`` lines, and the
    window's first line (every window; word counts kept as the window slides)."""
    if not query or not line_words:
        return 0.0, 0
    best = (0.0, 0)
    counts: dict[str, int] = {}
    shared = 0  # distinct query words in the window
    size = min(window, len(line_words))
    starts = range(0, max(len(line_words) - size, 0) + 1)
    first, last = 0, 0  # the window is line_words[first:last]

    def add(words: frozenset[str]) -> None:
        nonlocal shared
        for word in words:
            n = counts.get(word, 0)
            counts[word] = n + 1
            if n == 0 and word in query:
                shared += 1

    def remove(words: frozenset[str]) -> None:
        nonlocal shared
        for word in words:
            n = counts[word] - 1
            if n:
                counts[word] = n
            else:
                del counts[word]
                if word in query:
                    shared -= 1

    for start in starts:
        while last < start + size:
            add(line_words[last])
            last += 1
        while first < start:
            remove(line_words[first])
            first += 1
        union = len(query) + len(counts) - shared
        score = shared / union if union else 0.0
        if score > best[0]:
            best = (score, start)
    return best


class SnippetFinder:
    """Finds the snippets; keeps each document's word sets per line until its text
    changes."""

    def __init__(self) -> None:
        self._words: dict[str, tuple[str, list[frozenset[str]]]] = {}

    def line_words(self, uri: str, text: str, lines: Sequence[str]) -> list[frozenset[str]]:
        cached = self._words.get(uri)
        if cached is not None and cached[0] is text:
            return cached[1]
        words = [words_of(line) for line in lines[:MAX_LINES]]
        self._words[uri] = (text, words)
        return words

    def find(
        self,
        query: frozenset[str],
        documents: Iterable[tuple[str, str, Sequence[str]]],
        count: int = MAX_SNIPPETS,
        window: int = WINDOW_LINES,
    ) -> list[Snippet]:
        """The best window of each of ``documents`` (uri, text, lines) whose similarity is
        at least ``MIN_SCORE``, best first, at most ``count``."""
        found: list[Snippet] = []
        for uri, text, lines in documents:
            words = self.line_words(uri, text, lines)
            score, start = best_window(query, words, window)
            if score < MIN_SCORE:
                continue
            chosen = list(lines[start : start + window])
            while chosen and not chosen[-1].strip():
                chosen.pop()
            while chosen and not chosen[0].strip():
                chosen.pop(0)
                start += 1
            if not chosen:
                continue
            body = "".join(line if line.endswith("\n") else line + "\n" for line in chosen)
            found.append(Snippet(uri, start, start + len(chosen) - 1, body, score))
        found.sort(key=lambda s: (-s.score, s.uri))
        return found[:count]

    def forget(self, uri: str) -> None:
        self._words.pop(uri, None)


def render_snippet(snippet: Snippet, name: str, comment: str) -> str:
    """A snippet as the prompt shows it: commented out under a line naming its file
    (Copilot's form), so it cannot be mistaken for code of this file."""
    lines = [f"{comment} Compare this snippet from {name}:"]
    lines += [
        f"{comment} {line.rstrip()}" if line.strip() else comment
        for line in snippet.text.splitlines()
    ]
    return "\n".join(lines) + "\n"
