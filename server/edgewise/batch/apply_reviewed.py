"""`edgewise refactor --apply-reviewed REVIEW.md`: apply the changes a person ticked in a
review (see review.py), and nothing else.

For each file with ticked changes: the file must still be, byte for byte, the file the
changes were made against (its sha256), and each change's diff in the review must still
be the diff of its edits; the ticked changes are combined, the file re-parsed (a change
that adds syntax errors with the others is refused), then written as ``--apply`` writes
(replace.py: atomic, journaled, ``--check`` and a byte-for-byte restore when it fails).
A run stopped by ``kill -9`` is finished by the next ``--apply-reviewed`` of the same
review, from the journal beside it.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgewise import safe_read
from edgewise.actions.verify import verify_edit
from edgewise.batch.checks import CheckResult, CheckRunner
from edgewise.batch.diffs import unified_diff
from edgewise.batch.journal import Journal, finish_entry
from edgewise.batch.replace import NotReplaced, Replacement, backup_path
from edgewise.batch.review import Proposal, ReviewError, parse, same_diff
from edgewise.batch.sources import (
    READ_LIMIT,
    Edit,
    NotText,
    SourceFile,
    apply_edits,
    overlaps,
)
from edgewise.context.languages import LanguageRegistry
from edgewise.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edgewise.report.builder import new_id


@dataclass
class Outcome:
    key: str
    where: str  # file::symbol
    applied: bool
    reason: str


def journal_for(review: Path) -> Path:
    return review.with_name(f".{review.name}.edgewise-journal")


def edits_of(data: dict[str, Any]) -> list[Edit]:
    edits = data.get("edits")
    if not isinstance(edits, list) or not edits:
        raise ValueError("it has no edits")
    out = []
    for edit in edits:
        start, end, text = edit["start"], edit["end"], edit["text"]
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(text, str)):
            raise ValueError("an edit is malformed")
        if not 0 <= start <= end:
            raise ValueError("an edit's range is malformed")
        out.append(Edit(start, end, text))
    return out


def inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


class ReviewApplier:
    def __init__(self, review: Path, check: str | None, cwd: Path) -> None:
        self.review = review
        self.check = check
        self.cwd = cwd
        self.run_id = new_id()
        self.outcomes: list[Outcome] = []
        self.languages = LanguageRegistry()
        self.journal = Journal(journal_for(review))
        self.seq = 0

    def say(self, text: str) -> None:
        print(text, file=sys.stderr)

    def refuse(self, proposals: list[Proposal], reason: str) -> None:
        for proposal in proposals:
            self.outcomes.append(Outcome(proposal.key, where(proposal), False, reason))

    async def run(self) -> int:
        try:
            text = safe_read.read_bytes(self.review, READ_LIMIT).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.say(f"edgewise refactor: cannot read the review {self.review}: {exc}")
            return EXIT_USAGE
        try:
            review = parse(text)
        except ReviewError as exc:
            self.say(f"edgewise refactor: {self.review}: {exc}; nothing was changed")
            return EXIT_USAGE
        try:
            recovered = await self.recover()
            ticked = [p for p in review.proposals if p.ticked]
            if not ticked and not recovered:
                self.say(f"{self.review}: no change is ticked (- [x]); nothing was changed")
                return EXIT_OK
            for proposal in [p for p in ticked if p.key in recovered]:
                done, reason = recovered[proposal.key]
                self.outcomes.append(Outcome(proposal.key, where(proposal), done, reason))
            ticked = [p for p in ticked if p.key not in recovered]
            roots = [Path(r).resolve() for r in review.roots]
            by_file: dict[str, list[Proposal]] = {}
            for proposal in ticked:
                data = proposal.data
                if data is None or not isinstance(data.get("path"), str):
                    self.refuse(
                        [proposal], "its data line (<!-- edgewise:data … -->) is missing or damaged"
                    )
                    continue
                by_file.setdefault(data["path"], []).append(proposal)
            for path, proposals in by_file.items():
                await self.apply_file(Path(path), proposals, roots)
        finally:
            self.journal.close()
        self.outcomes.sort(key=lambda o: int(o.key[1:]))
        for outcome in self.outcomes:
            if outcome.applied:
                print(f"applied  {outcome.key}  {outcome.where}: {outcome.reason}")
            else:
                print(f"REFUSED  {outcome.key}  {outcome.where}: {outcome.reason}")
        applied = sum(o.applied for o in self.outcomes)
        self.say(
            f"{applied} of {len(self.outcomes)} ticked change(s) applied"
            + (f"; {len(self.outcomes) - applied} refused" if applied < len(self.outcomes) else "")
        )
        return EXIT_OK if applied == len(self.outcomes) else EXIT_FAILED

    async def recover(self) -> dict[str, tuple[bool, str]]:
        """Finish what a stopped --apply-reviewed of this review left open; returns
        (applied, why) by change key, for the changes it was writing."""
        out: dict[str, tuple[bool, str]] = {}
        for entry in self.journal.pending():
            finished = await finish_entry(entry, self.run_check_at)
            self.say(
                f"an earlier --apply-reviewed stopped while writing {entry.get('display')}: "
                f"{finished.outcome}: {finished.reason}"
            )
            for key in entry.get("changes") or []:
                out[str(key)] = (finished.outcome == "applied", f"{finished.reason} (recovered)")
            self.journal.end(entry["id"])
        return out

    async def run_check_at(self, path: Path, command: str, cwd: Path) -> CheckResult:
        try:
            return await CheckRunner(command, cwd).run(path)
        except Exception as exc:  # the shell cannot start: the file goes back
            return CheckResult(command, None, 0.0, f"{exc}")

    async def apply_file(self, path: Path, proposals: list[Proposal], roots: list[Path]) -> None:
        display = str(proposals[0].data and proposals[0].data.get("file") or path)
        real = path.resolve()
        if not roots or not inside(real, roots) or real != path:
            self.refuse(proposals, "the file is not inside the roots the review was made over")
            return
        try:
            source = SourceFile.read(path, display)
        except (OSError, NotText) as exc:
            self.refuse(proposals, f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")
            return
        accepted: list[tuple[Proposal, list[Edit]]] = []
        edits: list[Edit] = []
        language = self.languages.for_document(path.name)
        current = source.lf_text
        for proposal in sorted(proposals, key=lambda p: int(p.key[1:])):
            data = proposal.data or {}
            if data.get("before") != source.sha256:
                self.refuse(
                    [proposal],
                    "the file changed since the review was written "
                    f"(sha256 {source.sha256[:12]}… now, {str(data.get('before'))[:12]}… then)",
                )
                continue
            try:
                mine = edits_of(data)
                if any(e.end > len(source.lf_text) for e in mine):
                    raise ValueError("an edit lies past the end of the file")
            except (ValueError, KeyError, TypeError) as exc:
                self.refuse([proposal], f"its data is damaged: {exc}")
                continue
            if not same_diff(
                proposal.shown_diff, unified_diff(source.text, source.apply(mine), display)
            ):
                self.refuse(
                    [proposal],
                    "its diff in the review was edited (or removed); edgewise applies only what "
                    "it proposed — edit the file by hand instead",
                )
                continue
            if any(overlaps(m, t) for m in mine for t in edits):
                self.refuse([proposal], "it overlaps another ticked change in this file")
                continue
            after = apply_edits(source.lf_text, [*edits, *mine])
            verdict = verify_edit(language, current, after)
            if verdict.syntax_ok is False:
                self.refuse([proposal], f"together with the other ticked changes, {verdict.reason}")
                continue
            edits.extend(mine)
            current = after
            accepted.append((proposal, mine))
        if not accepted:
            return
        await self.write(source, [p for p, _ in accepted], source.apply(edits).encode("utf-8"))

    async def write(self, source: SourceFile, proposals: list[Proposal], new_bytes: bytes) -> None:
        self.seq += 1
        entry_id = f"{self.run_id}-{self.seq}"
        backup = backup_path(source.path, self.run_id)
        self.journal.begin_write(
            entry_id,
            source,
            backup,
            new_bytes,
            self.check,
            self.cwd,
            records=[],
            changes=[p.key for p in proposals],
        )
        try:
            replacement = Replacement.make(source.path, source.data, new_bytes, backup)
        except NotReplaced as exc:
            self.journal.end(entry_id)
            self.refuse(proposals, str(exc))
            return
        # from here until settled, a stop leaves the entry open: the next run finishes it
        check: CheckResult | None = None
        if self.check:
            check = await self.run_check_at(source.path, self.check, self.cwd)
        settled = replacement.settle(keep=check is None or check.passed)
        self.journal.end(entry_id)
        if settled.state == "kept":
            reason = "written" + (f"; --check passed in {check.seconds:.2f} s" if check else "")
            for proposal in proposals:
                self.outcomes.append(Outcome(proposal.key, where(proposal), True, reason))
        elif settled.state == "restored" and check is not None:
            self.refuse(proposals, f"--check failed ({check.verdict}); the file was restored")
        else:
            self.refuse(proposals, settled.note or settled.state)


def where(proposal: Proposal) -> str:
    data = proposal.data or {}
    return f"{data.get('file', '?')}::{data.get('symbol', '?')}"


def run_apply_reviewed(review: Path, check: str | None, cwd: Path) -> int:
    if check is not None and not check.strip():
        print("edgewise refactor: --check needs a command", file=sys.stderr)
        return EXIT_USAGE
    if not review.is_file():
        print(f"edgewise refactor: no review {review}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(ReviewApplier(review, check, cwd).run())
