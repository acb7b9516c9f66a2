"""Source files as the batch mode reads and writes them.

The engine works on text with ``\\n`` line endings; a file on disk may use ``\\r\\n``
(or a mix). A :class:`SourceFile` keeps the original bytes, gives the engine the
``\\n`` text, and maps every edit back onto the original text so that each byte outside
the edits stays as it was and inserted lines take the file's own line ending.

Writing a file back is ``replace.py``'s job.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from edgewise import safe_read

# most bytes a source file is read with (larger ones are refused before they are read)
READ_LIMIT = 64 * 1024 * 1024


class NotText(Exception):
    """The file is not UTF-8 text the batch mode can edit."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Edit:
    """Replace ``[start, end)`` of the ``\\n`` text with ``text`` (insert when start == end)."""

    start: int
    end: int
    text: str


def overlaps(a: Edit, b: Edit) -> bool:
    """Two edits that cannot both be applied (insertions at one point can)."""
    if a.start < b.end and b.start < a.end:
        return True
    return any(x.start == x.end and y.start < x.start < y.end for x, y in ((a, b), (b, a)))


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` with non-overlapping edits applied; insertions at the same point keep the
    order of the list."""
    order = sorted(range(len(edits)), key=lambda i: (edits[i].start, edits[i].end, i))
    out = text
    for i in reversed(order):
        edit = edits[i]
        out = out[: edit.start] + edit.text + out[edit.end :]
    return out


@dataclass
class SourceFile:
    path: Path  # the real path (symlinks resolved)
    display: str  # how the user named it (relative to the working directory when inside)
    data: bytes
    mode: int
    text: str = field(init=False)  # the original text, line endings as on disk
    lf_text: str = field(init=False)  # the text the engine sees
    newline: str = field(init=False)  # the line ending inserted lines get
    _crs: list[int] = field(init=False, repr=False)  # positions (in lf_text) of dropped CRs

    def __post_init__(self) -> None:
        if b"\x00" in self.data:
            raise NotText("binary file")
        try:
            self.text = self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotText(f"not UTF-8 (byte {exc.start})") from None
        crs: list[int] = []
        for found, match in enumerate(re.finditer("\r\n", self.text)):
            crs.append(match.start() - found)
        self._crs = crs
        self.lf_text = self.text.replace("\r\n", "\n") if crs else self.text
        lf_only = self.lf_text.count("\n") - len(crs)
        self.newline = "\r\n" if crs and len(crs) >= lf_only else "\n"

    @classmethod
    def read(cls, path: Path, display: str) -> SourceFile:
        data = safe_read.read_bytes(path, READ_LIMIT)  # a regular file, never a pipe
        return cls(path, display, data, stat.S_IMODE(os.stat(path).st_mode))

    @property
    def sha256(self) -> str:
        return sha256(self.data)

    def original_offset(self, lf_offset: int) -> int:
        """Offset in ``text`` of an offset in ``lf_text`` (before any CR of that line end)."""
        return lf_offset + bisect.bisect_left(self._crs, lf_offset)

    def apply(self, edits: list[Edit]) -> str:
        """The original text with the edits (``\\n`` text offsets) applied."""
        mapped = [
            Edit(
                self.original_offset(e.start),
                self.original_offset(e.end),
                self.with_newlines(e.text),
            )
            for e in edits
        ]
        return apply_edits(self.text, mapped)

    def with_newlines(self, text: str) -> str:
        if self.newline == "\n":
            return text
        return text.replace("\r\n", "\n").replace("\n", self.newline)


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
