"""Where generation stops: plain data with a ``__call__``, so that a stop rule can be
sent to the model worker process (pickled) and run there between tokens.

Each rule takes the text generated so far and returns the number of characters to keep
when generation must stop there, or None to go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

FENCE = "```"
# the text generated so far -> characters to keep when generation stops there, or None
StopCheck = Callable[[str], int | None]


@dataclass(frozen=True)
class CompletionStop:
    """Stops a completion at the end of the line, or at the end of the enclosing scope:
    a later line indented less than the cursor's block, or a bracket closing a scope that
    began before the cursor."""

    line_prefix: str
    multiline: bool

    def __call__(self, text: str) -> int | None:
        if not self.multiline:
            cut = text.find("\n")
            return cut if cut >= 0 else None
        base_indent = len(self.line_prefix) - len(self.line_prefix.lstrip())
        opens_block = self.line_prefix.rstrip().endswith((":", "{", "(", "[", "=>"))
        depth = 0
        for index, char in enumerate(text):
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
                if depth < 0:
                    line_start = text.rfind("\n", 0, index) + 1
                    return line_start if text[line_start:index].strip() == "" else index
        lines = text.split("\n")
        offset = len(lines[0]) + 1
        for line in lines[1:-1]:  # the last line may still be growing
            if line.strip():
                indent = len(line) - len(line.lstrip())
                if indent < base_indent or (opens_block and indent <= base_indent):
                    return offset - 1
            offset += len(line) + 1
        if "\n\n\n" in text:
            return text.index("\n\n\n")
        return None


@dataclass(frozen=True)
class MarkerStop:
    """Stop at the first marker that closes some prose (a marker before any prose is
    the model opening the block, and is cleaned away later)."""

    markers: tuple[str, ...]

    def __call__(self, text: str) -> int | None:
        hits = [
            found
            for m in self.markers
            if (found := text.find(m, len(text) - len(text.lstrip()) + 1)) > 0
            and text[:found].strip(" \n\t\"'*/")
        ]
        return min(hits) if hits else None


@dataclass(frozen=True)
class FenceStop:
    """Stops generation at the fence closing the (prefilled) code block."""

    def __call__(self, text: str) -> int | None:
        start = 0
        if text.lstrip().startswith(FENCE):  # a reply that opens its own block
            start = text.find("\n") + 1
            if start == 0:
                return None
        found = text.find(FENCE, start)
        return found if found >= 0 else None


REPEAT_NGRAM = 8  # words in the n-gram that must come back
REPEAT_TIMES = 3  # ... this many times in all
REPEAT_MIN_CHARS = 20  # non-space characters of that n-gram (a list of zeros is data)
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class RepeatGuard:
    """Stops a generation that has started repeating itself: its last ``ngram`` words
    (``min_chars`` characters at least) have come ``times`` times. What is kept ends after
    the first full round of the repeated stretch (one copy of the looping sentence)."""

    ngram: int = REPEAT_NGRAM
    times: int = REPEAT_TIMES
    min_chars: int = REPEAT_MIN_CHARS

    def __call__(self, text: str) -> int | None:
        spans = [(m.start(), m.end()) for m in WORD.finditer(text)]
        n = self.ngram
        if len(spans) < n * self.times:
            return None
        words = [text[a:b] for a, b in spans]
        last = words[-n:]
        if sum(len(w) for w in last) < self.min_chars:
            return None
        seen = [i for i in range(len(words) - n + 1) if words[i : i + n] == last]
        if len(seen) < self.times:
            return None
        period = seen[-1] - seen[-2]
        start = len(words) - period  # the periodic stretch: back while it repeats
        while start - 1 >= 0 and words[start - 1] == words[start - 1 + period]:
            start -= 1
        return spans[start + period - 1][1]


@dataclass(frozen=True)
class Guarded:
    """A stop rule with the repeat guard next to it; ``reason`` tells which stopped."""

    inner: StopCheck | None
    guard: RepeatGuard = RepeatGuard()

    def __call__(self, text: str) -> int | None:
        found = [
            keep
            for keep in (self.inner(text) if self.inner else None, self.guard(text))
            if keep is not None
        ]
        return min(found) if found else None

    def reason(self, text: str) -> str:
        """``repeat`` when the guard cut ``text`` (the text before the cut), else ``stop``."""
        repeat = self.guard(text)
        if repeat is None:
            return "stop"
        inner = self.inner(text) if self.inner else None
        return "repeat" if inner is None or repeat < inner else "stop"


def guarded(stop: StopCheck | None) -> Guarded:
    """``stop`` with the repeat guard (every completion and action gets it)."""
    return stop if isinstance(stop, Guarded) else Guarded(stop)


def stop_reason(stop: StopCheck | None, text: str) -> str:
    """Why ``stop`` stopped on ``text`` (before the cut): ``repeat`` or ``stop``."""
    return stop.reason(text) if isinstance(stop, Guarded) else "stop"


@dataclass(frozen=True)
class TypeStop:
    """Stops a type written into code (the infill after ``: `` or ``-> ``) where the type
    ends: at a line break, or at one of ``ends`` (``,=`` after a parameter, ``:`` after
    a return type) or a closing bracket outside any brackets of its own."""

    ends: str = ",="

    def __call__(self, text: str) -> int | None:
        depth = 0
        for index, char in enumerate(text):
            if char == "\n" or (depth == 0 and char in self.ends):
                return index
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    return index
                depth -= 1
        return None


@dataclass(frozen=True)
class FirstStop:
    """Stops where the first of ``rules`` stops."""

    rules: tuple[StopCheck, ...]

    def __call__(self, text: str) -> int | None:
        found = [keep for rule in self.rules if (keep := rule(text)) is not None]
        return min(found) if found else None


@dataclass(frozen=True)
class SectionStop:
    """Stops a reply to a prefix prompt where the model starts a section of its own
    (``### Instruction`` again, after its answer)."""

    heading: str = "\n### "

    def __call__(self, text: str) -> int | None:
        found = text.find(self.heading)
        return found if found >= 0 else None
