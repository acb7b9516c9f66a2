"""The prompt store (setting ``keepPrompts``, off by default): the exact prompt and answer
of each model call, kept under its report's id so that ``edgewise replay REPORT_ID`` can
send the same request again and compare the text.

Prompts quote the user's code, so the store is opt-in and private like the report log:
one file per report, ``<state>/prompts/<id>.json``, written whole (0600, in a 0700
folder). It is bounded: a prompt over ``MAX_ENTRY_BYTES`` is not kept, and once the
folder holds more than ``MAX_BYTES`` the oldest entries are deleted. An entry is read
back only when its prompt still has the hash its report names."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgewise.model.sent import SentFacts, prompt_sha256
from edgewise.paths import state_dir
from edgewise.private_files import private_dir, write_private

FOLDER = "prompts"
MAX_BYTES = 64 * 1024 * 1024  # module constants: tests lower them
MAX_ENTRY_BYTES = 2 * 1024 * 1024
TRIM_TO = 0.75  # of MAX_BYTES: what trimming leaves, so that it is rare
REPORT_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


class NotKept(Exception):
    """The store has no usable entry for the report (the message says why)."""


@dataclass(frozen=True)
class Kept:
    """A stored model call."""

    report_id: str
    prompt: dict[str, Any]
    prompt_sha256: str
    request: dict[str, Any]  # max_tokens, temperature, seed, stop
    output: str
    model_sha256: str


class PromptStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or state_dir() / FOLDER
        self.errors: list[str] = []  # write failures (the session goes on)
        self._total: int | None = None  # bytes in the folder, once measured

    def path(self, report_id: str) -> Path:
        if not REPORT_ID.match(report_id):
            raise NotKept(f"'{report_id}' is not a report id")
        return self.folder / f"{report_id}.json"

    def keep(self, report_id: str, sent: SentFacts, model_sha256: str) -> bool:
        """Store one model call; False (and why, in ``errors``) when it is not kept."""
        entry = {
            "report": report_id,
            "prompt_sha256": sent.prompt_sha256,
            "prompt": sent.prompt,
            "request": sent.request_fields(),
            "output": sent.output,
            "model_sha256": model_sha256,
        }
        data = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
        if len(data) > MAX_ENTRY_BYTES:
            self.errors.append(
                f"prompt of report {report_id} not kept: {len(data)} bytes, over {MAX_ENTRY_BYTES}"
            )
            return False
        try:
            private_dir(self.folder, state_dir() if self.folder.parent == state_dir() else None)
            write_private(self.path(report_id), data)
        except (OSError, NotKept) as exc:
            self.errors.append(f"prompt of report {report_id} not kept: {exc}")
            return False
        self._grow(len(data))
        return True

    def _grow(self, size: int) -> None:
        """Count a new entry; past the limit, drop the oldest down to ``TRIM_TO`` of it.
        The folder is measured once per process, then counted as entries are written
        (another process writing the store is found at the next measure)."""
        if self._total is None:
            self._total = self.size()
        self._total += size
        if self._total > MAX_BYTES:
            self.trim(int(MAX_BYTES * TRIM_TO))
            self._total = self.size()

    def size(self) -> int:
        total = 0
        with contextlib.suppress(OSError):
            for path in self.folder.glob("*.json"):
                with contextlib.suppress(OSError):
                    total += path.stat().st_size
        return total

    def trim(self, limit: int = MAX_BYTES) -> int:
        """Delete the oldest entries until the folder holds at most ``limit`` bytes;
        returns how many were deleted."""
        entries: list[tuple[float, int, Path]] = []
        with contextlib.suppress(OSError):
            for path in self.folder.glob("*.json"):
                with contextlib.suppress(OSError):
                    info = path.stat()
                    entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in entries)
        deleted = 0
        for _, size, path in sorted(entries):
            if total <= limit:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                deleted += 1
            total -= size
        return deleted

    def read(self, report_id: str, expected_sha256: str) -> Kept:
        path = self.path(report_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise NotKept(
                f"the prompt store ({self.folder}) does not hold report {report_id}'s prompt "
                "(dropped to keep the store under its size limit, or deleted)"
            ) from None
        except OSError as exc:
            raise NotKept(f"cannot read {path}: {exc.strerror}") from None
        try:
            entry = json.loads(raw)
            prompt = entry["prompt"]
            kept = Kept(
                report_id,
                prompt,
                str(entry["prompt_sha256"]),
                dict(entry["request"]),
                str(entry["output"]),
                str(entry.get("model_sha256") or "unknown"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise NotKept(f"{path} is not a prompt store entry ({exc})") from None
        if prompt_sha256(prompt) != expected_sha256:
            raise NotKept(
                f"{path} does not hold the prompt report {report_id} was made from "
                f"(its hash is not {expected_sha256[:12]}…)"
            )
        return kept
