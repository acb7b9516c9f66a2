"""`edgewise refactor`: one action across a repository, through the editor's own engine.

    files (discovery) -> targets (the action's finder over every scope)
      -> Engine.run_action per target (same prompt, model, syntax gate, report)
      -> per file: edits combined back to front, re-verified together
      -> dry run: a unified diff | --apply: atomic write, --check, restore on failure
      -> one JSON line per target, one summary line per run

Workers (``--jobs``) take targets in file order; a single committer writes files one at
a time, so a --check always sees exactly one new file change. The embedded model runs
one request at a time on its own worker thread (ModelHost), so there --jobs only queues.

Stopping: --max-cost, --limit and the first Ctrl-C stop new work (Ctrl-C lets the files
already started finish); a second Ctrl-C (or SIGTERM) cancels the model between tokens
and rolls back: files not yet written stay as they were, a running check is killed and
its file restored. In every case the finished targets are recorded and the summary is
written.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgewise import safe_read
from edgewise.actions.base import FileText, Workspace, char_offset
from edgewise.actions.catalog import ACTIONS, ActionSpec, get_action
from edgewise.actions.verify import verify_edit
from edgewise.batch.checks import CheckResult, CheckRunner
from edgewise.batch.diffs import unified_diff
from edgewise.batch.discovery import discover
from edgewise.batch.journal import Journal, finish_entry, journal_path
from edgewise.batch.progress import Progress, make_progress, money
from edgewise.batch.records import (
    OUTCOMES,
    REPORT_KINDS,
    ReportWriter,
    RunTotals,
    done_keys,
    foreign_file,
    read_lines,
    resume_key,
)
from edgewise.batch.replace import CHANGED, NotReplaced, Replacement, backup_path, unfit_reason
from edgewise.batch.review import ReviewError, check_review_path, default_path, write_review
from edgewise.batch.review import latest as latest_records
from edgewise.batch.review import render as render_review
from edgewise.batch.sources import (
    READ_LIMIT,
    Edit,
    NotText,
    SourceFile,
    apply_edits,
    overlaps,
    sha256,
)
from edgewise.batch.targets import FoundTarget, find_targets, finder
from edgewise.config import Settings, parse_settings
from edgewise.context.documents import MAX_PARSE_BYTES
from edgewise.context.positions import LineIndex
from edgewise.engine import Engine
from edgewise.errors import EdgewiseError
from edgewise.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from edgewise.model.backend import GenerationResult, ModelError
from edgewise.report.builder import Usage, build_report, new_id
from edgewise.schemas import load_schema

# Signals that stop the run now and roll back (SIGHUP: the terminal or SSH session is gone).
STOP_NOW_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


# a batch record's outcome as the ledger's split of where the tokens went
BATCH_OUTCOMES = {
    "applied": "applied",
    "rejected-by-syntax": "refused",
    "rejected-by-check": "refused",
    "rejected-unusable": "refused",
    "rejected-by-test-guard": "refused",
    "rejected-by-checkers": "refused",
}

# The gate that refused an edit (the report's verified.gate) -> the target's outcome.
GATE_OUTCOMES = {
    "syntax": "rejected-by-syntax",
    "tests": "rejected-by-test-guard",
    "checks": "rejected-by-checkers",
}


class UsageError(Exception):
    """A bad command line or setup: exit code 2, nothing changed."""


@dataclass
class Options:
    paths: list[Path]
    action: ActionSpec
    instruction: str | None
    include: list[str]
    exclude: list[str]
    apply: bool
    check: str | None
    jobs: int
    report: Path | None
    resume: bool
    max_cost: float | None
    cost_basis: str  # local | cloud
    limit: int | None
    settings: Settings
    cwd: Path
    review: Path | None = None  # the review file written at the end

    @property
    def mode(self) -> str:
        return "apply" if self.apply else "dry-run"


@dataclass
class TargetResult:
    found: FoundTarget
    report: dict[str, Any]
    text: str = ""
    edits: list[Edit] = field(default_factory=list)  # in the target's own file
    outcome: str | None = None  # decided at commit unless the target already failed
    reason: str = ""
    recorded: bool = False
    text_only: bool = False  # an action that answers with text (explain): nothing to edit

    @property
    def billed(self) -> bool:
        attempts: int = self.report["verified"].get("attempts", 0)
        return attempts > 0


@dataclass
class FileWork:
    source: SourceFile
    targets: list[FoundTarget]
    next_index: int = 0
    in_flight: int = 0
    results: dict[int, TargetResult] = field(default_factory=dict)
    queued: bool = False

    @property
    def uri(self) -> str:
        return self.source.path.as_uri()

    @property
    def started(self) -> bool:
        return self.next_index > 0

    @property
    def exhausted(self) -> bool:
        return self.next_index >= len(self.targets)


# --- options -------------------------------------------------------------------------


def load_settings(args: Any) -> Settings:
    raw: dict[str, Any] = {}
    if args.settings:
        try:
            raw = json.loads(Path(args.settings).read_text("utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot read settings {args.settings}: {exc.strerror}") from None
        except ValueError as exc:
            raise UsageError(f"settings {args.settings} are not JSON: {exc}") from None
        if isinstance(raw, dict) and isinstance(raw.get("edgewise"), dict):
            raw = raw["edgewise"]
        if not isinstance(raw, dict):
            raise UsageError(f"settings {args.settings} must be a JSON object")
    if args.model:
        raw["model"] = args.model
    if args.backend:
        raw["backend"] = args.backend
    if getattr(args, "keep_prompts", False):
        raw["keepPrompts"] = True
    if getattr(args, "allow_test_changes", False):
        raw["allowTestChanges"] = True
    parallel = "maxParallelRequests"  # a remote backend's requests in flight, when it has one
    if args.jobs > 1 and parallel in load_schema("config")["properties"]:
        current = raw.get(parallel)
        if not (isinstance(current, int) and current >= args.jobs):
            raw[parallel] = args.jobs
    result = parse_settings(raw)
    if result.problems:
        # A headless run does not guess: a setting it cannot use is a setup error (the
        # editor's "using the default" does not apply: nothing is run)
        problems = [p.removesuffix("; using the default") for p in result.problems]
        raise UsageError("; ".join(problems) + "; nothing was run")
    return result.settings


def takes_instruction(spec: ActionSpec) -> bool:
    """An action takes an instruction when its prompt has an {instruction} field (and
    then cannot run without one)."""
    return bool(getattr(spec, "needs_instruction", False)) or "{instruction}" in spec.instruction


def engine_accepts(option: str) -> bool:
    params = inspect.signature(Engine.run_action).parameters.values()
    return any(p.name == option or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def check_report_path(report: Path) -> None:
    from edgewise.context.languages import LanguageRegistry

    if report.is_dir():
        raise UsageError(f"--report {report} is a folder")
    if not report.parent.is_dir():
        raise UsageError(f"--report {report}: no folder {report.parent}")
    if LanguageRegistry().for_document(report.name) is not None:
        raise UsageError(f"--report {report} looks like source code; name a .jsonl file")
    why = foreign_file(report, REPORT_KINDS)
    if why is not None:
        raise UsageError(
            f"--report {report}: {why}; nothing was changed. Name a new file, or a report "
            "of an earlier run (edgewise appends to it)"
        )


def build_options(args: Any, cwd: Path) -> Options:
    spec = get_action(args.action)
    if spec is None:
        known = ", ".join(a.id for a in ACTIONS)
        raise UsageError(f"unknown action '{args.action}' (known: {known})")
    if takes_instruction(spec):
        if not args.instruction:
            raise UsageError(f"action '{spec.id}' needs --instruction TEXT")
        if not engine_accepts("instruction"):
            raise UsageError("this engine cannot pass an instruction to an action")
    elif args.instruction:
        raise UsageError(f"action '{spec.id}' takes no --instruction (it would be ignored)")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.max_cost is not None and args.max_cost < 0:
        raise UsageError("--max-cost must not be negative")
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must not be negative")
    if args.resume and not args.report:
        raise UsageError("--resume needs --report FILE.jsonl (the record of what is done)")
    if args.check is not None and not args.check.strip():
        raise UsageError("--check needs a command")
    if args.check and not args.apply:
        raise UsageError("--check runs after edits are written: use it with --apply")
    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
    if args.report:
        check_report_path(Path(args.report))
    review = review_path(args)
    return Options(
        paths=paths,
        action=spec,
        instruction=args.instruction,
        include=list(args.include or []),
        exclude=list(args.exclude or []),
        apply=bool(args.apply),
        check=args.check,
        jobs=args.jobs,
        report=Path(args.report) if args.report else None,
        resume=bool(args.resume),
        max_cost=args.max_cost,
        cost_basis=args.cost_basis,
        limit=args.limit,
        settings=load_settings(args),
        cwd=cwd,
        review=review,
    )


def review_path(args: Any) -> Path | None:
    """--review FILE.md, else ``REPORT.review.md`` beside --report (--no-review: none)."""
    if getattr(args, "no_review", False):
        return None
    chosen = getattr(args, "review", None)
    if chosen:
        path = Path(chosen)
    elif args.report:
        path = default_path(Path(args.report))
    else:
        return None
    if args.report and path.resolve() == Path(args.report).resolve():
        raise UsageError(f"--review {path} is the --report file; name another")
    why = check_review_path(path)
    if why is not None:
        raise UsageError(f"--review {path}: {why}")
    return path


# --- the run -------------------------------------------------------------------------


class BatchRun:
    def __init__(self, options: Options, progress: Progress) -> None:
        self.options = options
        self.progress = progress
        self.run_id = new_id()
        self.engine: Engine | None = None
        self.files: list[FileWork] = []
        self.refused: list[dict[str, str]] = []
        self.scanned = 0
        self.found = 0
        self.done_before = 0
        self.started_targets = 0
        self.in_flight = 0
        self.finished_billed = 0
        self.finished_money = 0.0
        self.stop_reason: str | None = None
        self.hard_stop = False
        self.interrupts = 0
        self.totals = RunTotals()
        self.outcomes: dict[str, int] = {}
        self.files_written = 0
        self.text_answers = 0  # text-only answers recorded in an --apply run
        self.files_restored = 0
        self.files_changed = 0
        self.writer: ReportWriter | None = None
        self.checker = CheckRunner(options.check, options.cwd) if options.check else None
        self.workers: list[asyncio.Task[None]] = []
        self.progress_event = asyncio.Event()
        self.workspace: Workspace | None = None  # what actions may read beyond the target's file
        self.started_at = time.monotonic()
        self.tokens_so_far = 0
        self.final_message = ""
        self.timing: dict[str, float] = {"discovery_seconds": 0.0, "load_seconds": 0.0}
        self.pending_commits = 0  # files queued for the committer, not yet committed
        self.journal: Journal | None = None  # --apply: what is being done to which file
        self.journal_seq = 0
        self.journal_entry: str | None = None  # the open entry of the file being committed
        self.files_unfit = 0  # candidate files refused for a reason of their own
        self.recovered: list[dict[str, str]] = []  # files a stopped run left, finished now
        self.recovery_checker: CheckRunner | None = None
        self.records: list[dict[str, Any]] = []  # this run's records (for the review)

    # --- discovery ---------------------------------------------------------------------

    def model_changed(self) -> None:
        """The model process crashed (or came back): said on stderr as it happens; the
        target it was serving is recorded as failed, and the run goes on."""
        alerts = self.engine.host.alerts if self.engine else []
        while alerts:
            self.progress.note(alerts.pop(0))

    def collect(self, engine: Engine) -> None:
        opts = self.options
        found = discover(opts.paths, opts.include, opts.exclude, opts.cwd)
        self.refused.extend(found.refused)
        for note in found.refused:
            self.progress.note(f"refused {note['path']}: {note['reason']}")
        self.workspace = make_workspace(opts.paths)
        find = finder(opts.action, opts.instruction or "", self.workspace)
        done: set[Any] = set()
        if opts.resume and opts.report is not None:
            done = done_keys(read_lines(opts.report), dry_run=not opts.apply)
        for candidate in found.files:
            language = engine.languages.for_document(candidate.path.name)
            if language is None or language.name not in opts.action.languages:
                continue
            self.scanned += 1
            try:
                why = self.unfit(candidate.path)
                if why is not None:
                    self.skip_file(candidate.display, why)
                    continue
                source = SourceFile.read(candidate.path, candidate.display)
            except NotText as exc:
                self.skip_file(candidate.display, str(exc))
                continue
            except OSError as exc:
                self.skip_file(candidate.display, exc.strerror or str(exc))
                continue
            uri = source.path.as_uri()
            doc = engine.documents.open(uri, source.lf_text)
            targets = find_targets(doc, opts.action, find)
            engine.documents.close(uri)
            self.found += len(targets)
            todo = [
                t
                for t in targets
                if resume_key(opts.action.id, opts.instruction, str(source.path), t.symbol)
                not in done
            ]
            self.done_before += len(targets) - len(todo)
            if todo:
                self.files.append(FileWork(source, todo))

    def unfit(self, path: Path) -> str | None:
        """Why a file is not a candidate (None when it is): too large to parse, and with
        --apply, a file edgewise may not replace (read-only, hard-linked)."""
        info = path.stat()
        if info.st_size > MAX_PARSE_BYTES:
            limit = MAX_PARSE_BYTES // (1024 * 1024)
            return f"larger than {limit} MB ({info.st_size} bytes): too large to parse"
        return unfit_reason(info, path) if self.options.apply else None

    def skip_file(self, display: str, reason: str) -> None:
        self.files_unfit += 1
        self.refused.append({"path": display, "reason": reason})
        self.progress.note(f"skipped {display}: {reason}")

    @property
    def to_run(self) -> int:
        return sum(len(f.targets) for f in self.files)

    # --- scheduling --------------------------------------------------------------------

    async def take(self) -> tuple[FileWork, int] | None:
        """The next target to start, or None when this worker should stop."""
        opts = self.options
        while True:
            if self.hard_stop:
                return None
            if self.stop_reason in ("budget", "limit", "period-budget"):
                return None
            if self.engine is not None and self.engine.budget.blocked() is not None:
                self.stop("period-budget")  # settings budget, atLimit "stop"
                return None
            candidate = next(
                (
                    f
                    for f in self.files
                    if not f.exhausted and (self.stop_reason is None or f.started)
                ),
                None,
            )
            if candidate is None:
                return None
            if not candidate.started and self.pending_commits > opts.jobs:
                # backpressure: run at most --jobs files ahead of the committer
                self.progress_event.clear()
                await self.progress_event.wait()
                continue
            if opts.limit is not None and self.started_targets >= opts.limit:
                self.stop("limit")
                return None
            if opts.max_cost is not None:
                if opts.max_cost <= 0:
                    self.stop("budget")
                    return None
                if self.finished_billed == 0 and self.in_flight > 0:
                    # nothing to estimate from yet: wait for the first target to finish
                    self.progress_event.clear()
                    await self.progress_event.wait()
                    continue
                if self.finished_billed:
                    mean = self.finished_money / self.finished_billed
                    projected = self.finished_money + (self.in_flight + 1) * mean
                    if projected > opts.max_cost:
                        self.stop("budget")
                        return None
            index = candidate.next_index
            candidate.next_index += 1
            candidate.in_flight += 1
            self.in_flight += 1
            self.started_targets += 1
            return candidate, index

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            messages = {
                "budget": "stopping: the next target would take the cost past --max-cost",
                "limit": "stopping: --limit reached",
                "period-budget": "stopping: "
                + (self.engine.budget.paused_message_now() if self.engine else "budget used up")
                + "; run again with --resume to go on from here",
                "interrupted": "interrupted: finishing the files already started "
                "(Ctrl-C again to stop now and roll back)",
            }
            self.progress.note(messages.get(reason, reason))
        self.progress_event.set()

    def on_interrupt(self) -> None:
        self.interrupts += 1
        if self.interrupts == 1:
            self.stop("interrupted")
        else:
            self.abort()

    def abort(self) -> None:
        """Stop now: cancel model calls, roll back what is not written, kill the check."""
        if self.hard_stop:
            return
        self.hard_stop = True
        self.stop_reason = "interrupted"
        self.interrupts = max(self.interrupts, 2)
        self.progress.note("stopping now: rolling back files not yet written")
        for task in self.workers:
            task.cancel()
        for checker in (self.checker, self.recovery_checker):
            if checker is not None:
                checker.kill()
        self.progress_event.set()

    # --- targets -----------------------------------------------------------------------

    async def worker(self, commits: asyncio.Queue[FileWork | None]) -> None:
        while True:
            item = await self.take()
            if item is None:
                return
            work, index = item
            try:
                found = work.targets[index]
                try:
                    result = await self.run_target(work, found)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug must cost one target, not the run
                    reason = f"internal error: {type(exc).__name__}: {exc}"
                    self.progress.note(f"{work.source.display}::{found.symbol}: {reason}")
                    result = self.failed_result(work, found, reason)
                work.results[index] = result
                if result.billed:
                    self.finished_billed += 1
                    self.finished_money += result.report["cost"][self.money_key]
                tokens = result.report["tokens"]
                self.tokens_so_far += tokens["prompt"] + tokens["completion"]
                self.progress.advance(self.tokens_so_far, self.finished_money)
            finally:
                work.in_flight -= 1
                self.in_flight -= 1
                self.progress_event.set()
            if work.exhausted and work.in_flight == 0 and not work.queued:
                self.queue_commit(commits, work)

    @property
    def money_key(self) -> str:
        return "local" if self.options.cost_basis == "local" else "cloud_equivalent"

    async def run_target(self, work: FileWork, found: FoundTarget) -> TargetResult:
        engine = self.engine
        assert engine is not None
        source = work.source
        doc_bytes = source.lf_text.encode("utf-8")
        index = LineIndex(source.lf_text, engine.position_encoding)
        start = index.position(char_offset(doc_bytes, found.start_byte))
        end = index.position(char_offset(doc_bytes, found.end_byte))
        options: dict[str, Any] = {}
        if self.options.instruction:
            options["instruction"] = self.options.instruction
        if self.workspace is not None:
            options["workspace"] = self.workspace
        language = engine.languages.for_document(source.path.name)
        try:
            result = await engine.run_action(
                self.options.action.id,
                work.uri,
                source.lf_text,
                start,
                end,
                language.name if language else None,
                **options,
            )
        except asyncio.CancelledError:
            raise
        except EdgewiseError as exc:  # the model, or this target: one target fails
            return self.failed_result(work, found, str(exc))
        return judge(found, result, work.uri)

    def failed_result(self, work: FileWork, found: FoundTarget, reason: str) -> TargetResult:
        engine = self.engine
        assert engine is not None
        index = LineIndex(work.source.lf_text, engine.position_encoding)
        start = index.position(char_offset(work.source.lf_text.encode("utf-8"), found.start_byte))
        report = self.unbilled_report(work, start, reason)
        return TargetResult(found, report, outcome="failed", reason=reason)

    def unbilled_report(self, work: FileWork, start: Any, reason: str) -> dict[str, Any]:
        """A schema-valid report for a target whose model call never ran."""
        engine = self.engine
        assert engine is not None
        backend = engine.host.loaded()
        info = backend.info() if backend is not None else None
        nothing = GenerationResult("", [], [], None, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, "error")
        report = build_report(
            kind="action",
            action=self.options.action.id,
            uri=work.uri,
            start=start,
            inserted="",
            result=nothing,
            usage=Usage(),
            info=info or _NO_MODEL,
            settings=engine.settings,
            prompt_format="chat",
            syntax_ok=None,
            reason=reason,
            encoding=engine.position_encoding,
        )
        report["verified"].pop("attempts", None)  # no attempt was made
        return report

    # --- files -------------------------------------------------------------------------

    def queue_commit(self, commits: asyncio.Queue[FileWork | None], work: FileWork) -> None:
        work.queued = True
        self.pending_commits += 1
        commits.put_nowait(work)

    async def committer(self, commits: asyncio.Queue[FileWork | None]) -> None:
        while True:
            work = await commits.get()
            if work is None:
                return
            try:
                await self.commit_file(work)
            except Exception as exc:  # a file that cannot be written fails its targets only
                reason = f"could not commit the file: {type(exc).__name__}: {exc}"
                if self.journal_entry is not None:  # left open: the next run settles it
                    reason += "; run again with --resume to check or restore it"
                    self.journal_entry = None
                self.progress.note(f"{work.source.display}: {reason}")
                for index in sorted(work.results):
                    result = work.results[index]
                    if not result.recorded:
                        result.outcome, result.reason = "failed", reason
                        self.record(work, result, self.disk_hash(work.source), None)

    async def commit_file(self, work: FileWork) -> None:
        try:
            await self.commit(work)
        finally:
            self.pending_commits -= 1
            self.progress_event.set()

    @staticmethod
    def disk_hash(source: SourceFile) -> str:
        try:
            return sha256(safe_read.read_bytes(source.path, READ_LIMIT))
        except OSError:
            return source.sha256

    async def commit(self, work: FileWork) -> None:
        source = work.source
        results = [work.results[i] for i in sorted(work.results)]
        engine = self.engine
        assert engine is not None
        language = engine.languages.for_document(source.path.name)
        # Combine the targets' edits (all made against the file as read), in source order;
        # a target whose edits overlap accepted ones waits for another run, and the file
        # is re-verified with each target added.
        accepted: list[TargetResult] = []
        edits: list[Edit] = []
        current = source.lf_text
        for result in results:
            if result.outcome is not None or not result.edits:
                continue
            if any(overlaps(mine, theirs) for mine in result.edits for theirs in edits):
                result.outcome = "skipped"
                result.reason = "overlaps another edit in this file; run again to apply it"
                continue
            after = apply_edits(source.lf_text, [*edits, *result.edits])
            verdict = verify_edit(language, current, after)
            if verdict.syntax_ok is False:
                result.outcome = "rejected-by-syntax"
                result.reason = f"together with the other edits in this file, {verdict.reason}"
                result.report["verified"].update(syntax_ok=False, reason=result.reason)
                continue
            problem = await self.combined_problems(source, current, after) if edits else None
            if problem is not None:
                result.outcome = "rejected-by-checkers"
                result.reason = f"together with the other edits in this file, {problem}"
                result.report["verified"].update(gate="checks", reason=result.reason)
                continue
            edits.extend(result.edits)
            current = after
            accepted.append(result)
        new_text = source.apply(edits)
        after_hash = source.sha256
        check: CheckResult | None = None
        opts = self.options
        if accepted and not opts.apply:
            for result in accepted:
                result.outcome = "proposed"
        elif accepted and self.hard_stop:
            for result in accepted:
                result.outcome = "skipped"
                result.reason = "interrupted before the file was written"
        elif accepted:
            check = await self.write_and_check(work, accepted, new_text.encode("utf-8"))
            after_hash = self.disk_hash(source)
        shown = [e for r in accepted if r.outcome in ("applied", "proposed") for e in r.edits]
        if shown:
            self.progress.diff(unified_diff(source.text, source.apply(shown), source.display))
        for result in results:
            self.record(work, result, after_hash, check if result in accepted else None)
        if self.journal_entry is not None:
            assert self.journal is not None
            self.journal.end(self.journal_entry)
            self.journal_entry = None
        engine.documents.close(work.uri)

    async def combined_problems(self, source: SourceFile, current: str, after: str) -> str | None:
        """What the project's checkers find new in ``after`` (the file with one more
        target's edit) against ``current`` (the file with the edits accepted so far):
        each target was checked against the file as read, not beside the others."""
        engine = self.engine
        assert engine is not None
        language = engine.languages.for_document(source.path.name)
        workspace = self.workspace or Workspace()
        checks = engine.settings.checks
        outcome = await engine.checkers.check(
            source.path,
            workspace.root_of(source.path),
            language.name if language is not None else None,
            current,
            after,
            checks.tools,
            checks.timeout_ms / 1000,
        )
        return outcome.problem

    async def write_and_check(
        self, work: FileWork, accepted: list[TargetResult], new_bytes: bytes
    ) -> CheckResult | None:
        """Write the file (journaled first), run --check, settle: sets each accepted
        target's outcome and reason; returns the check's result."""
        source = work.source
        assert self.journal is not None
        self.journal_seq += 1
        entry_id = f"{self.run_id}-{self.journal_seq}"
        backup = backup_path(source.path, self.run_id)
        pending = [self.build_record(work, r, sha256(new_bytes), None) for r in accepted]
        self.journal.begin_write(
            entry_id,
            source,
            backup,
            new_bytes,
            self.options.check,
            self.options.cwd,
            records=pending,
        )
        self.journal_entry = entry_id

        def decide(outcome: str, reason: str) -> None:
            for result in accepted:
                result.outcome, result.reason = outcome, reason

        try:
            replacement = Replacement.make(source.path, source.data, new_bytes, backup)
        except NotReplaced as exc:
            if str(exc) == CHANGED:
                self.files_changed += 1
            decide("skipped", str(exc))
            return None
        check: CheckResult | None = None
        if self.checker is not None:
            try:
                check = await self.checker.run(source.path)
            except Exception as exc:  # the shell cannot start: the file goes back
                check = CheckResult(self.checker.command, None, 0.0, f"{exc}")
        settled = replacement.settle(keep=check is None or check.passed)
        if settled.state == "kept":
            self.files_written += 1
            if check is None:
                decide("applied", "written")
            else:
                decide("applied", f"written; --check passed in {check.seconds:.2f} s")
        elif settled.state == "restored":
            self.files_restored += 1
            assert check is not None
            if self.hard_stop:
                decide("skipped", "interrupted during --check; the file was restored")
            else:
                decide(
                    "rejected-by-check", f"--check failed ({check.verdict}); the file was restored"
                )
        else:
            self.progress.note(f"{source.display}: {settled.note}")
            if check is not None and not check.passed:
                decide("rejected-by-check", f"--check failed ({check.verdict}); {settled.note}")
            else:
                decide("skipped", settled.note)
        return check

    def record(
        self,
        work: FileWork,
        result: TargetResult,
        after_hash: str,
        check: CheckResult | None,
    ) -> None:
        record = self.build_record(work, result, after_hash, check)
        if self.writer is not None:
            self.writer.write(record)
        self.records.append(record)
        result.recorded = True
        self.totals.add(record)
        outcome = record["outcome"]
        if self.engine is not None and result.billed:  # where the tokens went (the ledger)
            self.engine.session.outcome(
                result.report["id"], BATCH_OUTCOMES.get(outcome, "proposed"), result.report
            )
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if result.text_only and self.options.apply:
            self.text_answers += 1
        self.progress.target_done(record)

    def build_record(
        self,
        work: FileWork,
        result: TargetResult,
        after_hash: str,
        check: CheckResult | None,
    ) -> dict[str, Any]:
        source = work.source
        found = result.found
        engine = self.engine
        assert engine is not None
        index = LineIndex(source.lf_text, engine.position_encoding)
        data = source.lf_text.encode("utf-8")
        start = index.position(char_offset(data, found.start_byte))
        end = index.position(char_offset(data, found.end_byte))
        diff = ""
        if result.edits:
            diff = unified_diff(source.text, source.apply(result.edits), source.display)
        outcome = result.outcome or "failed"
        record = dict(result.report)
        record.update(
            {
                "target": {
                    "file": source.display,
                    "path": str(source.path),
                    "symbol": found.symbol,
                    "kind": found.target.kind,
                    "range": {"start": start.to_dict(), "end": end.to_dict()},
                },
                "outcome": outcome,
                "reason": result.reason,
                "diff": diff,
                "edits": [{"start": e.start, "end": e.end, "text": e.text} for e in result.edits],
                "text": result.text,
                "file_sha256": {"before": source.sha256, "after": after_hash},
                "check": check.to_dict() if check is not None else None,
                "batch": {
                    "run": self.run_id,
                    "mode": self.options.mode,
                    "instruction": self.options.instruction,
                },
            }
        )
        return record

    # --- the whole run -----------------------------------------------------------------

    async def execute(self) -> int:
        opts = self.options
        loop = asyncio.get_running_loop()
        # no loop signal handlers on Windows (NotImplementedError) or off the main thread
        # (RuntimeError): Ctrl-C then ends the run the default way
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, self.on_interrupt)
            for stop_now in STOP_NOW_SIGNALS:
                loop.add_signal_handler(stop_now, self.abort)
        self.engine = Engine(opts.settings, allow_download=True)
        self.engine.whole_file.patient = True  # nobody types here: every report gets its count
        try:
            journal = Journal(journal_path(opts.report, opts.cwd))
            left = journal.pending()
            if left and not (opts.resume or opts.apply):
                names = ", ".join(str(e.get("display") or e.get("path")) for e in left)
                raise UsageError(
                    f"an earlier --apply run stopped while changing {names}; run with "
                    "--resume (or --apply) to check or restore it first"
                )
            if left or opts.apply:
                self.journal = journal
            if left:
                self.open_report()
                await self.recover(left)
            self.collect(self.engine)
            self.timing["discovery_seconds"] = round(time.monotonic() - self.started_at, 3)
            if self.to_run:
                loading = time.monotonic()
                try:
                    await self.engine.host.backend()
                except ModelError as exc:
                    raise UsageError(str(exc)) from None
                self.timing["load_seconds"] = round(time.monotonic() - loading, 3)
            self.open_report()
            if self.to_run == 0:
                self.progress.note("no targets to run")
                return self.finish()
            for note in self.engine.host.notes:
                self.progress.note(note)
            self.engine.host.on_change = self.model_changed
            if opts.jobs > 1 and opts.settings.backend == "embedded":
                self.progress.note(
                    f"--jobs {opts.jobs}: the embedded model runs one request at a time; "
                    "targets are queued on it"
                )
            # the bar and its eta count what this run will do: --limit targets at most
            limit = opts.limit
            self.progress.start(self.to_run if limit is None else min(self.to_run, limit))
            commits: asyncio.Queue[FileWork | None] = asyncio.Queue()
            committer = asyncio.create_task(self.committer(commits))
            self.workers = [asyncio.create_task(self.worker(commits)) for _ in range(opts.jobs)]
            for outcome in await asyncio.gather(*self.workers, return_exceptions=True):
                if isinstance(outcome, Exception):
                    self.progress.note(f"a worker stopped: {type(outcome).__name__}: {outcome}")
            for work in self.files:
                if work.results and not work.queued:
                    self.queue_commit(commits, work)
            commits.put_nowait(None)
            await committer
            return self.finish()
        finally:
            self.progress.stop()
            if self.final_message:
                self.progress.note(self.final_message)
            if self.writer is not None:
                self.writer.close()
            if self.journal is not None:
                self.journal.close()
            self.engine.close()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                for handled in (signal.SIGINT, *STOP_NOW_SIGNALS):
                    loop.remove_signal_handler(handled)

    def open_report(self) -> None:
        report = self.options.report
        if report is None or self.writer is not None:
            return
        try:
            self.writer = ReportWriter(report)
        except FileExistsError as exc:  # made since the options were checked
            raise UsageError(f"--report {exc}; nothing was changed") from None
        except OSError as exc:
            raise UsageError(f"--report {report}: cannot open it: {exc.strerror}") from None

    async def recover(self, entries: list[dict[str, Any]]) -> None:
        """Finish what a stopped --apply run left open (see journal.py), before this
        run reads any file."""
        assert self.journal is not None
        self.progress.note(f"an earlier run stopped while changing {len(entries)} file(s):")
        report = self.options.report
        recorded = {  # records the stopped run wrote before it died are not written twice
            (line["batch"].get("run"), line["target"].get("path"), line["target"].get("symbol"))
            for line in (read_lines(report) if report is not None else [])
            if isinstance(line.get("batch"), dict) and isinstance(line.get("target"), dict)
        }
        for entry in entries:
            finished = await finish_entry(entry, self.run_recovery_check)
            display = str(entry.get("display") or entry["path"])
            self.progress.note(f"  {display}: {finished.outcome}: {finished.reason}")
            self.recovered.append(
                {"path": display, "outcome": finished.outcome, "reason": finished.reason}
            )
            for record in entry.get("records") or []:
                target, batch = record["target"], record["batch"]
                if (batch["run"], target["path"], target["symbol"]) in recorded:
                    continue
                record.update(
                    outcome=finished.outcome,
                    reason=finished.reason,
                    check=finished.check.to_dict() if finished.check is not None else None,
                    file_sha256={"before": entry["before"], "after": finished.after_sha},
                )
                if self.writer is not None:
                    self.writer.write(record)
            self.journal.end(entry["id"])

    async def run_recovery_check(self, path: Path, command: str, cwd: Path) -> CheckResult:
        self.recovery_checker = CheckRunner(command, cwd)
        try:
            return await self.recovery_checker.run(path)
        except Exception as exc:  # the shell cannot start: the file goes back
            return CheckResult(command, None, 0.0, f"{exc}")
        finally:
            self.recovery_checker = None

    def exit_code(self) -> int:
        if self.interrupts:
            return EXIT_INTERRUPTED
        if self.files_unfit or any(r["outcome"] != "applied" for r in self.recovered):
            return EXIT_FAILED
        good = "applied" if self.options.apply else "proposed"
        bad = sum(n for outcome, n in self.outcomes.items() if outcome != good)
        if bad > self.text_answers:  # an explanation is "proposed" even with --apply
            return EXIT_FAILED
        if self.stop_reason in ("budget", "period-budget"):
            return EXIT_FAILED
        return EXIT_OK

    def summary(self, code: int) -> dict[str, Any]:
        opts = self.options
        wall = time.monotonic() - self.started_at
        processed = sum(self.outcomes.values())
        totals = self.totals.summary_totals(wall, opts.settings.pricing.cloud_input_per_million)
        totals["currency"] = totals["currency"] or opts.settings.pricing.currency
        return {
            "kind": "summary",
            "id": self.run_id,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "action": opts.action.id,
            "instruction": opts.instruction,
            "mode": opts.mode,
            "roots": [str(p) for p in opts.paths],
            "check": opts.check,
            "targets": {
                "found": self.found,
                "done_before": self.done_before,
                "processed": processed,
                "remaining": max(self.to_run - processed, 0),
            },
            "outcomes": {o: self.outcomes[o] for o in OUTCOMES if o in self.outcomes},
            "files": {
                "scanned": self.scanned,
                "written": self.files_written,
                "restored": self.files_restored,
                "skipped_changed": self.files_changed,
            },
            "refused": self.refused,
            "recovered": self.recovered,
            "totals": totals,
            "timing": self.timing,
            "budget": (
                {
                    "max_cost": opts.max_cost,
                    "basis": opts.cost_basis,
                    "spent": self.totals.money(opts.cost_basis),
                }
                if opts.max_cost is not None
                else None
            ),
            "stopped": self.stop_reason if self.stop_reason else None,
            "exit_code": code,
        }

    def finish(self) -> int:
        code = self.exit_code()
        summary = self.summary(code)
        if summary["targets"]["remaining"] == 0 and summary["stopped"] != "interrupted":
            summary["stopped"] = None
        if self.writer is not None:
            self.writer.write(summary)
        self.final_message = describe(summary)
        self.write_review()
        return code

    def write_review(self) -> None:
        """The review of the run (--review, or beside --report): with a report, of the
        latest record of each target over every run it holds (a resumed night)."""
        opts = self.options
        if opts.review is None:
            return
        records = self.records
        if opts.report is not None:
            records = read_lines(opts.report)
        text = render_review(
            latest_records(records, opts.action.id, opts.instruction),
            action=opts.action.id,
            instruction=opts.instruction,
            mode=opts.mode,
            roots=[str(p.resolve()) for p in opts.paths],
            run=self.run_id,
        )
        try:
            write_review(opts.review, text)
        except (ReviewError, OSError) as exc:
            self.final_message += f"; the review was not written: {exc}"
            return
        self.final_message += f"; review: {opts.review}"


def make_workspace(paths: list[Path]) -> Workspace:
    """The roots as the actions' workspace (read from disk)."""
    roots = tuple(p.resolve() if p.is_dir() else p.resolve().parent for p in paths)

    def read(path: Path) -> FileText | None:
        try:
            text = safe_read.read_bytes(path).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return FileText(path, path.as_uri(), text.replace("\r\n", "\n"), None)

    return Workspace(roots=roots, read=read)


def rejection(report: dict[str, Any], new_text: str) -> str:
    """Why the engine refused a target's edit: its reply gave nothing usable (no types,
    no text: no edit was made of it), or the edit it made broke the syntax; else the
    request failed. A gate past the syntax (checkers, test guard) names itself."""
    verified = report["verified"]
    gate = GATE_OUTCOMES.get(verified.get("gate") or "")
    if gate is not None and gate != "rejected-by-syntax":
        return gate
    if verified["syntax_ok"] is not False:
        return "failed"
    return "rejected-by-syntax" if new_text else "rejected-unusable"


def judge(found: FoundTarget, result: Any, uri: str) -> TargetResult:
    """What the engine's answer means for the batch: the edits to the target's own file
    (the action's change and any import lines), or why there are none."""
    report = result.report
    reason = report["verified"]["reason"]
    files = getattr(result, "files", None)
    end = getattr(result, "edit_end", None)
    proposed = (
        [Edit(result.edit_offset, result.edit_offset if end is None else end, result.new_text)]
        if result.new_text
        else []
    )
    if result.disabled_reason:
        outcome = rejection(report, result.new_text)
        # the rejected text stays in the record (diff) for review, never in a file
        why = result.disabled_reason
        return TargetResult(found, report, result.new_text, proposed, outcome, why)
    if files is None:  # an engine whose results are one change to the document
        edits = proposed
    else:
        elsewhere = [f.uri for f in files if f.uri != uri]
        if elsewhere:
            why = (
                f"the edit changes another file ({', '.join(elsewhere)}); "
                "the batch mode edits only the target's own file"
            )
            return TargetResult(found, report, result.new_text, [], "skipped", why)
        edits = [Edit(c.start, c.end, c.new_text) for f in files for c in f.changes]
    text = getattr(result, "text", None)
    if not edits and text:
        return TargetResult(found, report, text, [], "proposed", reason, text_only=True)
    if not edits:
        return TargetResult(found, report, "", [], "failed", "the action produced no edit")
    return TargetResult(found, report, result.new_text, edits, None, reason)


def describe(summary: dict[str, Any]) -> str:
    t = summary["totals"]
    targets = summary["targets"]
    outcomes = ", ".join(f"{n} {o}" for o, n in summary["outcomes"].items()) or "nothing to do"
    parts = [
        f"{summary['mode']}: {targets['processed']} of {targets['found']} target(s): {outcomes}",
    ]
    if targets["done_before"]:
        parts.append(f"{targets['done_before']} already done")
    if targets["remaining"]:
        parts.append(f"{targets['remaining']} left ({summary['stopped']})")
    parts.append(
        f"{t['tokens_prompt']} prompt + {t['tokens_completion']} generated tokens, "
        f"{t['model_seconds']:.1f} s model / {t['wall_seconds']:.1f} s wall, "
        f"{t['energy_wh']:.4f} Wh, {money(t['local_cost'], t['currency'])} local, "
        f"≈ {money(t['cloud_equivalent'], t['currency'])} at cloud prices, "
        f"context engine saved {t['tokens_saved']} tokens"
    )
    return "; ".join(parts)


class _NoModel:
    name = "unknown"
    sha256 = "unknown"
    path = ""
    backend = "unknown"


_NO_MODEL: Any = _NoModel()


def run_refactor(args: Any) -> int:
    """Entry point of `edgewise refactor` (argparse namespace in, exit code out)."""
    cwd = Path.cwd()
    try:
        options = build_options(args, cwd)
    except UsageError as exc:
        print(f"edgewise refactor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress = make_progress(options.settings.pricing.currency)
    run = BatchRun(options, progress)
    try:
        return asyncio.run(run.execute())
    except UsageError as exc:
        print(f"edgewise refactor: {exc}", file=sys.stderr)
        return EXIT_USAGE
