"""A parse that can stop: the text handed to tree-sitter in chunks, with a progress check.

tree-sitter only asks whether to stop when it reads its input through a callback. The
Python binding (py-tree-sitter 0.26) keeps one reference to every object that callback
returns (its read wrapper takes a buffer of the result and never releases the result
itself), so each chunk stayed in memory for the life of the server: ~0.2 MB per keystroke
in a 10,000-line file (measured: RSS +60 MB over 280 keystrokes, flat without the
callback). Whether the installed binding does this is measured once, on a throw-away
parse; when it does, the references are given back after each parse.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

from tree_sitter import Language, Parser, Point, Tree

READ_CHUNK = 1 << 16  # bytes handed to tree-sitter per read


@functools.cache
def read_results_leak(language: Language) -> bool:
    """True when the binding keeps one reference per object the read callback returns."""
    probe = bytes(bytearray(b"x = 1\n" * 4))  # its own object: nothing else refers to it
    handed = 0

    def read(offset: int, _point: Point) -> bytes:
        nonlocal handed
        if offset:
            return b""
        handed += 1
        return probe

    before = sys.getrefcount(probe)
    Parser(language).parse(read, progress_callback=lambda *_: False)
    return handed > 0 and sys.getrefcount(probe) - before == handed


class ChunkedParse:
    """One parse of ``data`` through a read callback, stopped when ``stop`` says so
    (``parse`` then raises ValueError, as the binding does)."""

    def __init__(self, parser: Parser, data: bytes) -> None:
        self.parser = parser
        self.data = data
        self.leaks = parser.language is not None and read_results_leak(parser.language)
        self._handed: list[bytes] = []

    def _read(self, offset: int, _point: Point) -> bytes:
        chunk = self.data[offset : offset + READ_CHUNK]
        if self.leaks:
            self._handed.append(chunk)
        return chunk

    def parse(self, old_tree: Tree | None, stop: Callable[..., bool]) -> Tree:
        try:
            return self.parser.parse(self._read, old_tree, progress_callback=stop)
        finally:
            for chunk in self._handed:  # the references the binding kept
                ctypes.pythonapi.Py_DecRef(ctypes.py_object(chunk))
            self._handed.clear()
