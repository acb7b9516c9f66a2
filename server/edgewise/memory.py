"""Keeping a long-running server's resident memory flat.

glibc's malloc gives each thread that allocates its own arena (up to eight per core) and
returns freed memory to the system only at the top of a heap. A server that runs for
days with a model thread, a ledger thread and pygls' thread pool then grows in RSS
without holding more objects (the soak bench measured it). Two arenas, and a trim now
and then, keep it flat. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time

M_ARENA_MAX = -8  # mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024  # glibc's default, fixed (see limit_arenas)
TRIM_EVERY_S = 10.0


class MemoryKeeper:
    def __init__(self) -> None:
        self._libc = _glibc()
        self._last_trim = time.monotonic()

    def limit_arenas(self, arenas: int = 2) -> None:
        """Call before threads start: their allocations then share ``arenas`` arenas.
        Blocks of ``MMAP_THRESHOLD`` bytes and more (a big file's text, its bytes, a
        token buffer: new ones on every keystroke) are mapped and unmapped on their own,
        always: glibc otherwise raises that threshold after the first such block is
        freed, and later ones fragment the heap, which keeps growing."""
        if self._libc is not None:
            self._libc.mallopt(M_ARENA_MAX, arenas)
            self._libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)

    def trim(self, force: bool = False) -> None:
        """Give freed memory back to the system, at most every ``TRIM_EVERY_S``."""
        now = time.monotonic()
        if self._libc is None or (not force and now - self._last_trim < TRIM_EVERY_S):
            return
        self._last_trim = now
        self._libc.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None
    return libc
