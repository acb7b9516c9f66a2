"""The server's stdin reader on a real pipe: frames read whole, EOF mid-frame, a line
longer than any frame, and input seen waiting while the loop is busy."""

from __future__ import annotations

import asyncio
import os
import time

from edgewise.lsp.transport import PipeStdinReader


def test_reads_lines_and_bodies_and_sees_input_waiting_in_the_pipe():
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb", buffering=0) as stdin:
        assert PipeStdinReader.usable(stdin)
        reader = PipeStdinReader(stdin)
        waiting = reader.arrived()
        assert not waiting(), "nothing sent yet"
        os.write(write_fd, b"Content-Length: 2\r\n\r\n{}")
        time.sleep(PipeStdinReader.CHECK_EVERY_S * 2)
        assert waiting(), "sent, not read: the loop was busy"

        async def read() -> list[bytes]:
            parts = [await reader.readline(), await reader.readline()]
            parts.append(await reader.readexactly(2))
            os.write(write_fd, b"x" * 10 + b"\n" + b"abc")
            os.close(write_fd)
            parts.append(await reader.readline())
            parts.append(await reader.readexactly(5))  # the client went away mid-frame
            parts.append(await reader.readline())
            return parts

        parts = asyncio.run(read())
    assert parts == [b"Content-Length: 2\r\n", b"\r\n", b"{}", b"x" * 10 + b"\n", b"abc", b""]


def test_a_regular_file_is_left_to_the_thread_reader(tmp_path):
    path = tmp_path / "input"
    path.write_bytes(b"")
    with path.open("rb") as stdin:
        assert not PipeStdinReader.usable(stdin)
