"""Positions sampled from a code base: a cursor inside a line, the rest of the line
deleted. The model completes one line there; it was right when the first line of its
suggestion equals the deleted text (trailing space ignored)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from edgewise import safe_read
from edgewise.context.languages import LanguageRegistry
from edgewise.context.prompt import split_lines

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        "build",
        "dist",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        "site-packages",
    }
)
MAX_FILE_BYTES = 512 * 1024
MAX_LINE_CHARS = 200  # longer lines are minified or generated code
MIN_LINE_CHARS = 3


@dataclass(frozen=True)
class Position:
    path: Path
    language: str
    line: int  # 0-based
    column: int  # character offset into the line: the cursor
    source: str  # the whole file as it was

    @property
    def line_text(self) -> str:
        return split_lines(self.source)[self.line].rstrip("\r\n")

    @property
    def typed(self) -> str:
        return self.line_text[: self.column]

    @property
    def deleted(self) -> str:
        return self.line_text[self.column :].rstrip()

    def document(self) -> str:
        """The file with the rest of the cursor line deleted."""
        lines = split_lines(self.source)
        whole = lines[self.line]
        ending = whole[len(whole.rstrip("\r\n")) :]
        lines[self.line] = self.typed + ending
        return "".join(lines)

    @property
    def mid_word(self) -> bool:
        text = self.line_text
        return (
            0 < self.column < len(text)
            and _word_char(text[self.column - 1])
            and _word_char(text[self.column])
        )


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def source_files(
    root: Path, registry: LanguageRegistry | None = None, exclude: frozenset[str] = frozenset()
) -> Iterator[Path]:
    """Files under ``root`` in a language edgewise parses, in a stable order, skipping
    vendored, generated and hidden folders and any folder named in ``exclude``."""
    registry = registry or LanguageRegistry()
    skip = SKIP_DIRS | exclude
    if root.is_file():
        if registry.for_document(str(root)) is not None:
            yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if registry.for_document(name) is not None:
                yield path


def eligible_lines(text: str) -> list[int]:
    out = []
    for index, line in enumerate(split_lines(text)):
        content = line.rstrip()
        body = content.strip()
        if MIN_LINE_CHARS <= len(body) and len(content) <= MAX_LINE_CHARS:
            out.append(index)
    return out


def sample_positions(
    roots: list[Path],
    count: int,
    seed: int = 0,
    registry: LanguageRegistry | None = None,
    exclude: frozenset[str] = frozenset(),
    per_line: int = 1,
) -> list[Position]:
    """``count`` positions on lines drawn uniformly from the eligible lines of all files,
    the cursor uniform strictly inside the line's code: at least one typed character
    after the indentation and at least one deleted character. ``per_line`` > 1 puts that
    many distinct cursors on each drawn line (benchmarks: they share the prompt up to the
    line, so the model evaluates it once)."""
    registry = registry or LanguageRegistry()
    candidates: list[tuple[Path, str, str, int]] = []
    for root in roots:
        for path in source_files(root, registry, exclude):
            try:
                text = safe_read.read_text(path, MAX_FILE_BYTES)
            except (OSError, UnicodeDecodeError):
                continue
            language = registry.for_document(str(path))
            assert language is not None
            for line in eligible_lines(text):
                candidates.append((path, language.name, text, line))
    rng = random.Random(seed)
    lines_wanted = -(-count // max(per_line, 1))
    picked = rng.sample(candidates, min(lines_wanted, len(candidates)))
    positions = []
    for path, language_name, text, line in picked:
        content = split_lines(text)[line].rstrip()
        indent = len(content) - len(content.lstrip())
        columns = range(indent + 1, len(content))
        for column in sorted(rng.sample(columns, min(per_line, len(columns)))):
            positions.append(Position(path, language_name, line, column, text))
    return positions[:count]


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip()


def first_word(text: str) -> str:
    """The first run of word characters, or else the first non-space character."""
    stripped = text.lstrip()
    lead = text[: len(text) - len(stripped)]
    if not stripped:
        return ""
    if not _word_char(stripped[0]):
        return lead + stripped[0]
    end = 0
    while end < len(stripped) and _word_char(stripped[end]):
        end += 1
    return lead + stripped[:end]


def is_right(suggestion: str, deleted: str) -> bool:
    return first_line(suggestion) == deleted.rstrip()


def first_word_right(suggestion: str, deleted: str) -> bool:
    want = first_word(deleted)
    return bool(want) and first_word(suggestion) == want
