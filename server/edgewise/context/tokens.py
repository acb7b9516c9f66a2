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
from array import array
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

Tokenize = Callable[[str], list[int]]
V = TypeVar("V")

# What is remembered is bounded in bytes (a typing session makes new texts at every
# keystroke, and a whole prompt is several KB): the least recently used go first.
MAX_BYTES = 2_000_000  # each of the two memos (lines used in prompts, whole prompts)
ENTRY_BYTES = 200  # a dictionary slot and the objects' headers, roughly

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


class TextMemo(Generic[V]):
    """Values per text, least recently used first out when their estimated size goes
    over ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._values: OrderedDict[str, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, text: str) -> V | None:
        found = self._values.get(text)
        if found is None:
            return None
        self._values.move_to_end(text)
        return found[0]

    def put(self, text: str, value: V, size: int = 0) -> None:
        """Remember ``value`` for ``text``; ``size``: bytes the value holds besides."""
        if text in self._values:
            return
        cost = len(text) + size + ENTRY_BYTES
        self._values[text] = (value, cost)
        self.bytes += cost
        while self.bytes > self.max_bytes and len(self._values) > 1:
            _, (_, freed) = self._values.popitem(last=False)
            self.bytes -= freed


class TokenCounter:
    def __init__(self, tokenize: Tokenize, max_bytes: int = MAX_BYTES) -> None:
        self.tokenize = tokenize
        self._counts: TextMemo[int] = TextMemo(max_bytes)
        self._tokens: TextMemo[array[int]] = TextMemo(max_bytes)
        self.by_lines = self._lines_are_safe()

    def _lines_are_safe(self) -> bool:
        for probe in PROBES:
            for text in (probe, probe.lstrip(), probe.rstrip("\n")):
                joined = [t for chunk in line_chunks(text) for t in self.tokenize(chunk)]
                if joined != list(self.tokenize(text)):
                    return False
        return True

    def _remember(self, text: str) -> array[int]:
        cached = self._tokens.get(text)
        if cached is None:
            cached = array("i", self.tokenize(text))  # 4 bytes a token, not an int object
            self._tokens.put(text, cached, cached.itemsize * len(cached))
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
        count = len(self.encode(text)) if self.by_lines else len(self.tokenize(text))
        self._counts.put(text, count)
        return count

    def count_lines(self, text: str) -> int:
        """Sum of the counts of each line (with its newline): close to the count of the
        whole text, and cached line by line."""
        if "\n" not in text:
            return self.count(text)
        parts = text.split("\n")
        total = sum(self.count(part + "\n") for part in parts[:-1])
        return total + self.count(parts[-1])
