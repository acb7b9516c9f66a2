"""Replacing a source file with edgewise's version without losing anyone else's bytes.

A rename is atomic for readers, but a process that holds the original open (a logger, an
editor writing in place) keeps writing to the original inode after the rename, and
those bytes would vanish with it. So the original is never let go while edgewise's
version is on trial:

1. the file is opened (no symlink followed, never a FIFO or a device) and compared
   with the bytes the edits were made against; a file that changed is not touched;
2. the original inode gets a second name, a hard link ``.NAME.RUN.edgewise-orig``
   beside it (the journal names it: after a ``kill -9`` the original is still there);
3. the new text goes to a temporary file (the original's mode, fsynced), the file is
   compared once more (same inode, size, mtime and bytes) and the temporary file is
   renamed over it;
4. when the edit's fate is known (no --check, or the check's verdict), :meth:`settle`
   looks at both inodes. Writes that reached the original through a handle opened
   before the rename, or a failed check, put the original inode itself back under its
   name (so those writers write to the real file again); a file saved after
   edgewise's write is kept as saved, never restored over.

What is left: a write through an old handle in the microseconds between the last look
and the rename's end, or between settling and unlinking the second name, would reach a
file no name points to. Each look is a compare right before the step it guards.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgewise.batch.sources import fsync_dir, sha256

CHANGED = "the file changed on disk since it was read; not overwritten"


class NotReplaced(Exception):
    """The file was left exactly as it was (the reason says why)."""


def unfit_reason(info: os.stat_result, path: Path) -> str | None:
    """Why a file cannot be replaced (None when it can): edgewise changes no permission
    and splits no hard links."""
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o222 or not os.access(path, os.W_OK):
        return f"read-only (mode {mode:04o}); edgewise does not change permissions"
    if info.st_nlink > 1:
        return f"has {info.st_nlink} hard links; replacing it would split them"
    return None


def read_fd(fd: int) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def stamp(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def open_regular(path: Path) -> int:
    """A read handle on ``path`` itself: a symlink, FIFO or device put there is refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise NotReplaced("the file was removed since it was read") from None
    except OSError as exc:
        raise NotReplaced(f"cannot open it: {exc.strerror} (a symlink put in its place?)") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotReplaced("no longer a regular file")
    return fd


def write_temp(directory: Path, name: str, data: bytes, mode: int) -> Path:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".edgewise-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def backup_path(path: Path, run_id: str) -> Path:
    return path.with_name(f".{path.name}.{run_id}.edgewise-orig")


@dataclass
class Settled:
    """What :meth:`Replacement.settle` did: ``kept`` (the edit stands), ``restored``
    (the original is back, as edgewise found it), ``theirs-back`` (the original is back
    with what another process wrote to it meanwhile), ``theirs-kept`` (the file was
    changed after edgewise's write: kept as it is)."""

    state: str
    note: str = ""  # when set: also for the user's terminal

    @property
    def edit_stands(self) -> bool:
        return self.state == "kept"


@dataclass
class Replacement:
    """Edgewise's version in place; the original inode held under a second name."""

    path: Path
    backup: Path
    original_sha: str
    written_sha: str
    original_fd: int  # the original inode (also named ``backup``)
    original_stamp: tuple[int, int, int, int] | None  # None: compared by bytes only
    new_stat: os.stat_result | None  # edgewise's inode; None: compared by bytes only

    @classmethod
    def make(cls, path: Path, expected: bytes, data: bytes, backup: Path) -> Replacement:
        """Put ``data`` in place of ``path`` if it still holds ``expected``; else
        :class:`NotReplaced`, with the file untouched."""
        fd = open_regular(path)
        try:
            info = os.fstat(fd)
            why = unfit_reason(info, path)
            if why is not None:
                raise NotReplaced(why)
            if read_fd(fd) != expected:
                raise NotReplaced(CHANGED)
            tmp = write_temp(path.parent, path.name, data, stat.S_IMODE(info.st_mode))
            linked = False
            try:
                os.link(path, backup, follow_symlinks=False)
                linked = True
                if not same_file(os.lstat(backup), info):
                    raise NotReplaced(CHANGED)
                # the last look, right before the rename
                now = os.fstat(fd)
                if stamp(now) != stamp(info) or not same_file(os.lstat(path), info):
                    raise NotReplaced(CHANGED)
                if read_fd(fd) != expected:
                    raise NotReplaced(CHANGED)
                new_stat = os.stat(tmp)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                if linked:
                    with contextlib.suppress(OSError):
                        os.unlink(backup)
                raise
            fsync_dir(path.parent)
        except OSError as exc:
            os.close(fd)
            raise NotReplaced(f"could not write it: {exc.strerror or exc}") from None
        except BaseException:
            os.close(fd)
            raise
        return cls(path, backup, sha256(expected), sha256(data), fd, stamp(info), new_stat)

    @classmethod
    def reopen(cls, path: Path, backup: Path, original_sha: str, written_sha: str) -> Replacement:
        """The replacement a stopped run left (``backup`` exists), to settle it now."""
        return cls(path, backup, original_sha, written_sha, open_regular(backup), None, None)

    def original_intact(self) -> bool:
        """Nobody wrote to the original inode since it was compared."""
        info = os.fstat(self.original_fd)
        if self.original_stamp is not None and stamp(info) != self.original_stamp:
            return False
        return sha256(read_fd(self.original_fd)) == self.original_sha

    def ours_in_place(self) -> bool:
        """The file still holds edgewise's write: same inode, same bytes."""
        try:
            fd = open_regular(self.path)
        except NotReplaced:
            return False
        try:
            if self.new_stat is not None and not same_file(os.fstat(fd), self.new_stat):
                return False
            return sha256(read_fd(fd)) == self.written_sha
        finally:
            os.close(fd)

    def settle(self, keep: bool) -> Settled:
        """``keep``: the edit passed (or there was no check); else it is to be undone.
        Never loses a byte someone else wrote: see the module's description."""
        try:
            intact = self.original_intact()
            if keep and intact:
                os.unlink(self.backup)
                return Settled("kept")
            if self.ours_in_place():
                os.replace(self.backup, self.path)  # the original inode, under its name again
                fsync_dir(self.path.parent)
                if intact:
                    return Settled("restored")
                return Settled(
                    "theirs-back",
                    "another process wrote to the file while edgewise replaced it; "
                    "the file with their writes was put back and edgewise's edit dropped",
                )
            if not os.path.lexists(self.path):
                return Settled(
                    "theirs-kept",
                    f"the file was removed after edgewise wrote it; the original is in {self.backup}",
                )
            if intact:
                os.unlink(self.backup)
                return Settled(
                    "theirs-kept",
                    "the file was changed after edgewise wrote it; "
                    "that version is kept (not restored)",
                )
            return Settled(
                "theirs-kept",
                "the file was changed after edgewise wrote it, and the original was written "
                f"to through an older handle: kept as is, the original is in {self.backup}",
            )
        finally:
            self.close()

    def close(self) -> None:
        if self.original_fd >= 0:
            os.close(self.original_fd)
            self.original_fd = -1
