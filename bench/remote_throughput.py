"""Throughput of concurrent completion/action jobs through the engine against local
llama-cpp-python servers behind a round-robin proxy.

    PYTHONPATH=server:. python bench/remote_throughput.py [--servers 4] [--jobs 8]
        [--levels 1,2,4] [--model PATH.gguf]

Starts ``--servers`` processes of ``python -m llama_cpp.server`` (one CPU thread each:
llama-cpp-python's server runs one request at a time, so parallel slots come from
processes), puts a TCP round-robin in front of them, and drives the engine directly
(``Engine.complete`` / ``Engine.run_action``) with ``maxParallelRequests`` = each level.
Prints jobs/minute per level and the speed-up over level 1 (the baseline). The same
servers serve every level. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "project" / "files.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_servers(model: Path, count: int, logs: Path) -> list[tuple[subprocess.Popen, int]]:
    servers = []
    for index in range(count):
        port = free_port()
        log = (logs / f"server-{index}.log").open("wb")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "1",
                "--n_threads_batch",
                "1",
                "--interrupt_requests",
                "False",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        servers.append((proc, port))
    deadline = time.monotonic() + 120
    for proc, port in servers:
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_servers(servers)
                raise SystemExit(f"llama_cpp.server on port {port} did not start (see {logs})")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    return servers


def stop_servers(servers: list[tuple[subprocess.Popen, int]]) -> None:
    for proc, _ in servers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc, _ in servers:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class RoundRobin:
    """Each new TCP connection goes to the next server (HTTP keep-alive keeps it there)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = itertools.cycle(ports)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.AbstractServer | None = None

    def start(self) -> RoundRobin:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(timeout=10)
        return self

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", next(self.ports))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def stop(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def run_level(url: str, model: Path, level: int, jobs: int) -> tuple[float, int, int]:
    from edgewise.config import parse_settings
    from edgewise.context.positions import Pos
    from edgewise.engine import Engine

    settings = parse_settings(
        {
            "backend": url,
            "remoteTokenizer": str(model),
            "maxParallelRequests": level,
            "maxTokens": 32,
            "actionMaxTokens": 64,
            "maxCompletionMs": 120000,
        }
    ).settings
    engine = Engine(settings, allow_download=False, report_log=False)  # not the user's ledger
    text = SAMPLE.read_text("utf-8")
    lines = text.splitlines()
    try:
        await engine.host.backend()

        async def job(index: int) -> int:
            uri = f"file:///bench/job{index}.py"
            if index % 2:
                result = await engine.run_action(
                    "docstring", uri, text, Pos(4, 6), Pos(4, 6), "python"
                )
                return int(result.report["tokens"]["completion"])
            line = 6 + (index // 2) % max(len(lines) - 6, 1)
            done = await engine.complete(uri, text, Pos(line, len(lines[line])), "python")
            return int(done.report["tokens"]["completion"])

        started = time.monotonic()
        tokens = await asyncio.gather(*(job(i) for i in range(jobs)))
        return time.monotonic() - started, jobs, sum(tokens)
    finally:
        engine.close()


def default_model(tmp: Path) -> Path:
    sys.path[:0] = [str(ROOT / "server"), str(ROOT)]  # edgewise, and tests.tiny_gguf
    from edgewise.model.registry import packaged_model

    packaged = packaged_model()
    if packaged is not None:
        return packaged
    from tests.tiny_gguf import write_tiny_gguf

    return write_tiny_gguf(tmp / "tiny.gguf", seed=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=8, help="jobs per level")
    parser.add_argument("--levels", default="1,2,4")
    parser.add_argument("--model", type=Path, help="GGUF (default: SmolLM2-135M, else tiny)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory(prefix="edgewise-bench-") as tmp:
        model = args.model or default_model(Path(tmp))
        servers = start_servers(model, args.servers, Path(tmp))
        proxy = RoundRobin([port for _, port in servers]).start()
        url = f"http://127.0.0.1:{proxy.port}"
        print(f"model {model.name}; {args.servers} llama_cpp.server processes x 1 thread")
        print(f"behind a round-robin at {url}; {os.cpu_count()} CPU cores; {args.jobs} jobs")
        print("(half completions, half docstring actions) per level\n")
        try:
            asyncio.run(run_level(url, model, 1, 2))  # warm-up: page the model in
            baseline = None
            print(f"{'parallel':>8} {'seconds':>8} {'jobs/min':>9} {'tokens/s':>9} {'speed-up':>9}")
            for level in levels:
                seconds, jobs, tokens = asyncio.run(run_level(url, model, level, args.jobs))
                rate = jobs / seconds * 60
                baseline = baseline or rate
                print(
                    f"{level:>8} {seconds:>8.2f} {rate:>9.1f} {tokens / seconds:>9.1f} "
                    f"{rate / baseline:>8.2f}x"
                )
        finally:
            proxy.stop()
            stop_servers(servers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
