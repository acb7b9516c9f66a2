"""Token counts and token lists from the model's own tokenizer, remembered per text.

Choosing what goes into a prompt weighs hundreds of lines and signatures per keystroke;
most of them are the same text as a keystroke ago, so each distinct text is counted
once. The final prompt is tokenized exactly: either whole (remembered per text, so an
unchanged context costs nothing), or, for tokenizers whose pre-tokenizer never merges
across the start of a non-blank line (Qwen2, DeepSeek-Coder, Llama 3 …), line by line
from the cache. Which of the two applies is decided once per tokenizer by comparing both
ways on probe texts.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Tokenize = Callable[[str], list[int]]

MAX_ENTRIES = 200_000

# A chunk starts at every line that has something other than blanks on it; blank and
# blank-only lines stay with the line before them.
_CHUNK_START = re.compile(r"(?<=\n)(?=[ \t]*[^\s])")

PROBES: tuple[str, ...] = (
    'import os\n\n\nclass Store(Base):\n    """Items."""\n\n    def add(self, item):\n'
    "        if item:\n            return self.items[item.name]\n        \n\n"
    "        raise KeyError(item)  # no\n\t\tx = 1\n",
    "export function f(a: number): string {\n  return `${a}`;\n}\n\n  \n"
    "const x = { a: [1, 2], b: 'c' };\r\n\r\n  if (x) {\r\n    y();\r\n  }\r\n",
    '/* comment */\nint main(void)\n{\n    printf("%d\\n", 1);\n}\n\n#define X 1\n'
    "    // ünïcödé → 🙂\n  }\n)\n]\n    \n    \n  ok\n",
    "    \n\n    def f():\n        pass\n\n\n\nx = [\n    1,\n]\n    ''' doc\n    '''\n",
)


def line_chunks(text: str) -> list[str]:
    starts = [m.start() for m in _CHUNK_START.finditer(text)]
    if not starts:
        return [text] if text else []
    chunks = [text[: starts[0]]] if starts[0] > 0 else []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        chunks.append(text[start:end])
    return chunks


class TokenCounter:
    def __init__(self, tokenize: Tokenize, max_entries: int = MAX_ENTRIES) -> None:
        self.tokenize = tokenize
        self.max_entries = max_entries
        self._counts: dict[str, int] = {}
        self._tokens: dict[str, tuple[int, ...]] = {}
        self.by_lines = self._lines_are_safe()

    def _lines_are_safe(self) -> bool:
        for probe in PROBES:
            for text in (probe, probe.lstrip(), probe.rstrip("\n")):
                joined = [t for chunk in line_chunks(text) for t in self.tokenize(chunk)]
                if joined != list(self.tokenize(text)):
                    return False
        return True

    def _remember(self, text: str) -> tuple[int, ...]:
        cached = self._tokens.get(text)
        if cached is None:
            if len(self._tokens) >= self.max_entries:
                self._tokens.clear()
            cached = tuple(self.tokenize(text))
            self._tokens[text] = cached
        return cached

    def encode(self, text: str) -> list[int]:
        """Exactly ``tokenize(text)``, from remembered pieces where that is exact."""
        if not text:
            return []
        if not self.by_lines:
            return list(self._remember(text))
        out: list[int] = []
        for chunk in line_chunks(text):
            out.extend(self._remember(chunk))
        return out

    def count(self, text: str) -> int:
        """Tokens of ``text`` on its own (a line, a signature)."""
        if not text:
            return 0
        cached = self._counts.get(text)
        if cached is not None:
            return cached
        if len(self._counts) >= self.max_entries:
            self._counts.clear()
        count = len(self.encode(text)) if self.by_lines else len(self.tokenize(text))
        self._counts[text] = count
        return count

    def count_lines(self, text: str) -> int:
        """Sum of the counts of each line (with its newline): close to the count of the
        whole text, and cached line by line."""
        if "\n" not in text:
            return self.count(text)
        parts = text.split("\n")
        total = sum(self.count(part + "\n") for part in parts[:-1])
        return total + self.count(parts[-1])
