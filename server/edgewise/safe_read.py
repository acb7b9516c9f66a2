"""Reading a file of the workspace without ever blocking on it or reading without end.

A workspace can hold anything with a source file's name: a named pipe (opening it for
reading waits for a writer, forever), ``/dev/zero`` behind a symlink (reading never ends),
a terminal. Only regular files are read: the path is stat'ed first, opened with
``O_NONBLOCK`` (a pipe that appears in between is then opened without waiting) and the
opened descriptor is stat'ed again, so a file swapped for something else between the two
is refused too. At most ``limit`` bytes are read. Every refusal is an :class:`OSError`
(:class:`NotReadable`), so callers that already handle unreadable files need nothing new.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
from pathlib import Path

MAX_BYTES = 2 * 1024 * 1024  # what the server reads of one workspace file at most


class NotReadable(OSError):
    """The path is not a regular file, or it is larger than the limit."""


def read_bytes(path: Path | str, limit: int = MAX_BYTES) -> bytes:
    """The whole content of the regular file ``path`` (symlinks followed), at most
    ``limit`` bytes; NotReadable for anything else, OSError when it cannot be read."""
    before = os.stat(path)
    _check(path, before, limit)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        opened = os.fstat(fd)
        _check(path, opened, limit)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise NotReadable(errno.ESTALE, "the file was replaced while it was opened", str(path))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew after the stat
            raise NotReadable(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path | str, limit: int = MAX_BYTES) -> str:
    """The file as UTF-8, line endings untouched (UnicodeDecodeError when it is not)."""
    return read_bytes(path, limit).decode("utf-8")


async def read_text_off_loop(path: Path | str, limit: int = MAX_BYTES) -> str:
    """:func:`read_text` in a worker thread, for code running on the event loop."""
    return await asyncio.to_thread(read_text, path, limit)


def _check(path: Path | str, info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise NotReadable(errno.EINVAL, "not a regular file", str(path))
    if info.st_size > limit:
        raise NotReadable(errno.EFBIG, f"larger than {limit} bytes", str(path))
