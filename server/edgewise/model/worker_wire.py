"""Frames between the language server and its model worker process: a 4-byte length,
then a pickle. Both ends are edgewise's own code, started by the server."""

from __future__ import annotations

import os
import pickle
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 28  # 256 MiB: far above any prompt or result


def encode(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameReader:
    """Reads frames from a file descriptor; ``feed`` what arrived, take whole frames."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()

    def read_some(self) -> bool:
        """One read (blocking); False at end of file."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            return False
        self._buffer += chunk
        return True

    def frames(self) -> list[Any]:
        out: list[Any] = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > MAX_FRAME:
                raise ValueError(f"frame of {size} bytes")
            end = HEADER.size + size
            if len(self._buffer) < end:
                break
            out.append(pickle.loads(bytes(self._buffer[HEADER.size : end])))
            del self._buffer[:end]
        return out
