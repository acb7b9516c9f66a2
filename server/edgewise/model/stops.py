"""Where generation stops: plain data with a ``__call__``, so that a stop rule can be
sent to the model worker process (pickled) and run there between tokens.

Each rule takes the text generated so far and returns the number of characters to keep
when generation must stop there, or None to go on.
"""

from __future__ import annotations

from dataclasses import dataclass

FENCE = "```"


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
