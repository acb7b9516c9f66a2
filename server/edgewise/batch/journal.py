"""The --apply journal: what is about to happen to a file, on disk before it happens.

Before a file is replaced, one ``begin`` line names it, the second name that keeps its
original (see ``replace.py``), the hashes before and after, the --check command and the
records its targets will get. After its outcome is in the report, an ``end`` line
closes it. A run that was killed (``kill -9``, a lost terminal, a power cut) leaves a
``begin`` without an ``end``; the next run on the same report (``--resume`` or
``--apply``) finishes it first: it runs the check again on edgewise's version, or
puts the original back, or keeps what someone saved since, and reports which.

The journal is ``.REPORT.edgewise-journal`` beside the report (without --report, one
per working directory in the state folder); it is deleted when nothing is left open.
Lines are appended whole and fsynced, as the report's are.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgewise.batch.checks import CheckResult
from edgewise.batch.records import ReportWriter, read_lines
from edgewise.batch.replace import NotReplaced, Replacement, same_file
from edgewise.batch.sources import SourceFile, sha256
from edgewise.paths import state_dir

KINDS = ("journal",)

RunCheck = Callable[[Path, str, Path], Awaitable[CheckResult]]  # file, command, cwd


def journal_path(report: Path | None, cwd: Path) -> Path:
    if report is not None:
        return report.with_name(f".{report.name}.edgewise-journal")
    return state_dir() / "batch" / f"{sha256(str(cwd).encode())[:16]}.edgewise-journal"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: ReportWriter | None = None

    def pending(self) -> list[dict[str, Any]]:
        """The ``begin`` entries without an ``end``, oldest first."""
        begun: dict[str, dict[str, Any]] = {}
        for line in read_lines(self.path):
            if line.get("kind") != "journal" or not isinstance(line.get("id"), str):
                continue
            if line.get("op") == "begin":
                begun[line["id"]] = line
            elif line.get("op") == "end":
                begun.pop(line["id"], None)
        return list(begun.values())

    def _write(self, line: dict[str, Any]) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = ReportWriter(self.path, KINDS)
        self._writer.write({"kind": "journal", **line})

    def begin(self, entry: dict[str, Any]) -> None:
        self._write({**entry, "op": "begin"})

    def begin_write(
        self,
        entry_id: str,
        source: SourceFile,
        backup: Path,
        new_bytes: bytes,
        check: str | None,
        cwd: Path,
        **extra: Any,
    ) -> None:
        """The entry of one file about to be replaced by ``new_bytes`` (the batch run and
        --apply-reviewed write the same entry; ``extra``: what each adds)."""
        self.begin(
            {
                "id": entry_id,
                "path": str(source.path),
                "display": source.display,
                "backup": str(backup),
                "before": source.sha256,
                "after": sha256(new_bytes),
                "check": check,
                "cwd": str(cwd),
                **extra,
            }
        )

    def end(self, entry_id: str) -> None:
        self._write({"id": entry_id, "op": "end"})

    def close(self) -> None:
        """Closes the file; deletes it when every entry is closed."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.path.exists() and not self.pending():
            with contextlib.suppress(OSError):
                self.path.unlink()


@dataclass
class Finished:
    outcome: str
    reason: str
    after_sha: str
    check: CheckResult | None = None


def disk_sha(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes())
    except OSError:
        return None


async def finish_entry(entry: dict[str, Any], run_check: RunCheck) -> Finished:
    """Finish or undo what a stopped run did to one file (see the module's description)."""
    path, backup = Path(entry["path"]), Path(entry["backup"])
    before, after, command = entry["before"], entry["after"], entry.get("check")
    if not os.path.lexists(backup):  # never replaced, or already settled
        disk = disk_sha(path)
        if disk == after:
            return Finished(
                "applied",
                "written (and checked, if --check was given) before the run stopped",
                after,
            )
        if disk == before:
            return Finished(
                "skipped", "the run stopped before the file was changed; it is as it was", before
            )
        return Finished(
            "skipped", "the run stopped; the file has changed since: kept as it is", disk or before
        )
    with contextlib.suppress(OSError):
        if same_file(os.lstat(path), os.lstat(backup)):  # stopped before the rename
            os.unlink(backup)
            return Finished(
                "skipped", "the run stopped before the file was changed; it is as it was", before
            )
    try:
        replacement = Replacement.reopen(path, backup, before, after)
    except NotReplaced as exc:
        return Finished(
            "failed", f"the run stopped; cannot read the original {backup}: {exc}", before
        )
    check: CheckResult | None = None
    keep = False
    if replacement.ours_in_place():
        keep = True
        if command:
            check = await run_check(path, command, Path(entry.get("cwd") or path.parent))
            keep = check.passed
    settled = replacement.settle(keep)
    now = disk_sha(path) or before
    if settled.state == "kept":
        if check is not None:
            return Finished(
                "applied", f"written; --check passed on resume in {check.seconds:.2f} s", now, check
            )
        return Finished("applied", "written before the run stopped", now)
    if settled.state == "restored":
        verdict = check.verdict if check is not None else "not run"
        reason = f"--check failed on resume ({verdict}); the file was restored"
        return Finished("rejected-by-check", reason, now, check)
    return Finished("skipped", f"the run stopped; {settled.note}", now, check)
