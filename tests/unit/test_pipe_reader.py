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


def test_a_message_counts_from_when_its_bytes_arrived_not_from_when_the_loop_got_to_it():
    """The debounce of a completion request starts when the request arrived: a request
    read behind a didChange that kept the loop busy is not made to wait that time again."""
    import json
    import threading

    from edgewise.lsp.transport import RECEIVED_AT, serve_frames

    busy_s = 0.05
    seen: dict[str, tuple[float | None, float]] = {}

    class Protocol:
        def refuse(self, msg_id: object, method: str) -> bool:
            return False

        def structure_message(self, data: dict) -> dict:
            return data

        def send_raw(self, data: dict) -> None:
            raise AssertionError(f"unexpected error answer {data}")

        def handle_message(self, message: dict) -> None:
            if message["method"] == "didChange":
                time.sleep(busy_s)  # the loop is busy with the edit
                return

            async def handler() -> None:  # pygls starts async handlers as tasks
                seen[message["method"]] = (RECEIVED_AT.get(), asyncio.get_running_loop().time())

            asyncio.ensure_future(handler())

    def frame(method: str) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", "method": method}).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb", buffering=0) as stdin:
        reader = PipeStdinReader(stdin)

        async def serve() -> float:
            sent = asyncio.get_running_loop().time()
            os.write(write_fd, frame("didChange") + frame("completion"))
            os.close(write_fd)
            await serve_frames(threading.Event(), reader, Protocol())  # type: ignore[arg-type]
            await asyncio.sleep(0)
            return sent

        sent = asyncio.run(serve())
    received, handled = seen["completion"]
    assert received is not None
    assert sent <= received < sent + busy_s / 2, "stamped when its bytes were read"
    assert handled - received >= busy_s * 0.9, "handled only after the didChange's work"
