"""What edgewise keeps in its state and cache directories is the user's alone: reports
and explanations quote the user's code. Files are written 0600 (0400 when read-only),
directories 0700, whatever the umask; files and directories made by an older version
with wider modes are narrowed when edgewise next writes to them. A directory that is not
the user's, or is shared on purpose (sticky, like /tmp), is left as it is.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path, top: Path | None = None) -> Path:
    """``path`` created if needed and owner-only, and so is every directory from ``top``
    (an ancestor of ``path``, e.g. the state directory) down to it."""
    chain = [path]
    if top is not None and top in path.parents:
        parts = path.relative_to(top).parts
        chain = [top, *(top.joinpath(*parts[: n + 1]) for n in range(len(parts)))]
    for folder in chain:
        folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        _narrow_dir(folder)
    return path


def _narrow_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        info = folder.stat()
        if (
            info.st_uid == os.geteuid()
            and not info.st_mode & stat.S_ISVTX
            and stat.S_IMODE(info.st_mode) & 0o077
        ):
            folder.chmod(stat.S_IMODE(info.st_mode) & DIR_MODE)


def narrow_fd(fd: int) -> None:
    """An open file of edgewise's made owner-only (an older version left it 0644)."""
    with contextlib.suppress(OSError):
        info = os.fstat(fd)
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & FILE_MODE)


def narrow_file(path: Path) -> None:
    """Like :func:`narrow_fd`, for a file edgewise keeps but does not open now."""
    with contextlib.suppress(OSError):
        info = path.lstat()
        if (
            stat.S_ISREG(info.st_mode)
            and info.st_uid == os.geteuid()
            and stat.S_IMODE(info.st_mode) & 0o077
        ):
            path.chmod(stat.S_IMODE(info.st_mode) & FILE_MODE)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` of a file created 0600, narrowed to owner-only if it existed wider."""
    fd = os.open(path, flags | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    narrow_fd(fd)
    return fd


def write_private(path: Path, data: str | bytes, mode: int = FILE_MODE) -> Path:
    """Replace ``path`` with ``data`` in one step (a reader never sees half of it); the
    file is created with ``mode`` (owner-only), never readable by others in between."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    try:
        narrow_fd(fd)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    return path
