"""The user's own --check command, run after a file's edits are written.

It runs through the shell, in the working directory, in its own process group (so a
Ctrl-C at the terminal reaches edgewise, which decides, and not the check directly),
with ``EDGEWISE_FILE`` set to the file just written. Model output is never run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUTPUT_KEPT = 4000


@dataclass
class CheckResult:
    command: str
    exit_code: int | None  # None: could not start; negative: killed by that signal
    seconds: float
    output: str

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def verdict(self) -> str:
        if self.exit_code is None:
            return f"could not run: {self.output}"
        if self.exit_code < 0:
            return f"killed by signal {-self.exit_code}"
        return f"exit {self.exit_code}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "output": self.output,
        }


class CheckRunner:
    def __init__(self, command: str, cwd: Path) -> None:
        self.command = command
        self.cwd = cwd
        self._process: asyncio.subprocess.Process | None = None

    async def run(self, changed: Path) -> CheckResult:
        started = time.monotonic()
        env = dict(os.environ, EDGEWISE_FILE=str(changed))
        process = await asyncio.create_subprocess_shell(
            self.command,
            cwd=self.cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._process = process
        try:
            out, _ = await process.communicate()
        except asyncio.CancelledError:
            self.kill()
            with contextlib.suppress(Exception):
                await asyncio.shield(process.wait())
            raise
        finally:
            self._process = None
        text = out.decode("utf-8", "replace")[-OUTPUT_KEPT:]
        return CheckResult(self.command, process.returncode, time.monotonic() - started, text)

    def kill(self) -> None:
        """Stop a running check and everything it started (its process group)."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
