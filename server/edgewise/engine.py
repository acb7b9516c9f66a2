"""The one pipeline behind every door (LSP server, batch refactor, context inspector).

documents -> context (tree-sitter, token budget) -> prompt -> model -> verify -> report
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from edgewise.actions.base import Workspace
from edgewise.actions.runner import ActionResult, ActionRunner, Offer, offers
from edgewise.calibration.store import CalibrationStore, calibrate_confidence
from edgewise.completion_cache import (
    CacheKey,
    ResultCache,
    Shown,
    ShownSuggestions,
    cached_text,
    token_key,
)
from edgewise.config import Settings
from edgewise.context.documents import DocumentStore, ParsedDocument
from edgewise.context.languages import LanguageRegistry
from edgewise.context.multiline import node_before, opens_block
from edgewise.context.overlap import cut_at_scope_end, cut_repeated_lines
from edgewise.context.positions import LineIndex, Pos, byte_range, clamp_position
from edgewise.context.prompt import Prompt, PromptBuilder
from edgewise.context.workspace import WorkspaceIndex
from edgewise.model.backend import Backend, GenerationRequest, GenerationResult
from edgewise.model.healing import heal_prompt
from edgewise.model.host import ModelHost
from edgewise.model.stops import CompletionStop, MarkerStop
from edgewise.paths import state_dir
from edgewise.report.builder import Usage, build_report
from edgewise.report.ledger import LOG_NAME, Ledger, ReportLog
from edgewise.report.savings import attach_whole_file
from edgewise.report.whole_file import WholeFileCounter

REPORTS_KEPT = 200  # the latest reports by id (reportApplied, hovers); the ledger has all
CACHEABLE_STOPS = ("eos", "stop", "max_tokens")  # complete answers, not cut by time or cancel
FOLLOWING_LINES = 20  # lines after the cursor a suggestion must not repeat
# "1": the typing-speed baseline the benchmarks compare against (a bench option, no setting)
BENCH_BASELINE_ENV = "EDGEWISE_BENCH_BASELINE"
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Completion:
    text: str
    report: dict[str, Any]
    hidden: bool  # below minConfidence
    shown: Shown | None = None  # for type-through, once the server has shown it
    result: GenerationResult | None = None  # the model's own tokens (benchmarks read them)


# Of ``maxCompletionMs``: how long generation may go on once the prompt is evaluated,
# even when evaluating it used up the cap (a cold prompt on a slow CPU).
GENERATION_SHARE = 0.5

__all__ = ["ActionResult", "Completion", "Engine", "Offer", "Session"]


@dataclass
class Session:
    """Everything the engine has produced this session: the latest reports by id, and
    the ledger (exact running totals, and the JSON Lines log) every report goes into."""

    reports: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    hidden: int = 0
    ledger: Ledger = field(default_factory=lambda: Ledger(None))

    def add(self, report: dict[str, Any]) -> None:
        self.reports[report["id"]] = report
        while len(self.reports) > REPORTS_KEPT:
            self.reports.popitem(last=False)
        self.ledger.record(report)


class Engine:
    def __init__(
        self,
        settings: Settings | None = None,
        languages: LanguageRegistry | None = None,
        allow_download: bool = True,
        report_log: ReportLog | None | bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.languages = languages or LanguageRegistry()
        self.documents = DocumentStore(self.languages)
        self.host = ModelHost(self.settings, allow_download)
        if report_log is True:  # the default: the log in the user's state directory
            report_log = ReportLog(state_dir() / LOG_NAME)
        self.session = Session(ledger=Ledger(report_log or None))
        self.whole_file = WholeFileCounter()
        self.last_prompt: dict[str, Any] | None = None  # exactly what was last sent
        self.position_encoding = "utf-16"  # set by the LSP server at initialize
        self.calibrations = CalibrationStore()  # per model sha256, from `edgewise calibrate`
        self._builders: dict[int, PromptBuilder] = {}
        self._line_index: LineIndex | None = None
        self.results = ResultCache()  # model results by prompt tokens (typing speed)
        self.shown = ShownSuggestions()  # last suggestion shown per document (type-through)
        # context engine: files that imports name are read from these workspace roots
        # (set by the LSP server at initialize, by the CLI from --root)
        self.workspace = WorkspaceIndex(self.documents, self.languages)
        # seconds a completion may spend re-parsing its document (None: whatever it
        # takes); the LSP server sets it while typing (see ParsedDocument.tree)
        self.completion_parse_s: float | None = None
        # typing speed: KV-prefix reuse, the result cache and type-through here, the debounce,
        # superseding and bounded re-parses in the LSP server; off only in the baseline
        self.typing_optimizations = os.environ.get(BENCH_BASELINE_ENV) != "1"

    @property
    def workspace_roots(self) -> list[Path]:
        return self.workspace.roots

    @workspace_roots.setter
    def workspace_roots(self, roots: list[Path]) -> None:
        self.workspace.set_roots(roots)

    def configure(self, settings: Settings) -> None:
        self.settings = settings
        if self.host.configure(settings):
            self._builders.clear()
            self.results.clear()
            self.shown.clear()

    def close(self) -> None:
        self.host.close()
        self.session.ledger.close()  # every report recorded is in the log

    # --- prompts -----------------------------------------------------------------------

    def builder(self, backend: Backend) -> PromptBuilder:
        builder = self._builders.get(id(backend))
        if builder is None:
            info = backend.info()
            bos = backend.bos() if info.fim is None else []
            builder = PromptBuilder(
                tokenize=backend.tokenize,
                tokenize_special=lambda text: backend.tokenize(text, special=True),
                fim=info.fim,
                marker_text=backend.detokenize_special,
                bos=bos,
            )
            self._builders = {id(backend): builder}
        return builder

    def line_index(self, doc: ParsedDocument) -> LineIndex:
        """The line index of the document's text, read from its line table (kept current
        edit by edit, so a keystroke in a big file does not split the file again)."""
        index = self._line_index
        if index is None or index.text is not doc.text or index.encoding != self.position_encoding:
            index = self._line_index = LineIndex.of(doc.lines, self.position_encoding)
        return index

    def close_document(self, uri: str) -> None:
        """Forget a closed document everywhere: the last prompt choice, the line index and
        the whole-file count each kept it (its text, tree and tables: ~30 MB for 10,000
        lines, measured, kept until another document took their place)."""
        doc = self.documents.get(uri)
        self.documents.close(uri)
        self.whole_file.forget(uri)
        for builder in self._builders.values():
            builder.forget(uri)
        if doc is not None and self._line_index is not None and self._line_index.text is doc.text:
            self._line_index = None

    def completion_prompt(
        self, backend: Backend, doc: ParsedDocument, pos: Pos, budget: int | None = None
    ) -> Prompt:
        line, column, notes = clamp_position(doc.lines, pos, self.position_encoding)
        if self.workspace.documents is not self.documents:
            self.workspace.documents = self.documents
        wanted = budget or self.settings.context_budget
        fits = backend.info().context_length - self.settings.max_tokens - 1
        with doc.parse_budget(self.completion_parse_s):
            prompt = self.builder(backend).build(
                doc, line, column, max(min(wanted, fits), 16), self.workspace
            )
        if wanted > fits:
            prompt.notes.append(
                f"budget {wanted} lowered to {fits} tokens to fit the model's context"
            )
        prompt.notes.extend(notes)
        if doc.parse_pending:
            prompt.notes.append(
                "syntax from before the latest edits: their re-parse (a whole-file one) "
                "finishes in the next pauses"
            )
        return prompt

    # --- completions -------------------------------------------------------------------

    def prepare(self, uri: str, text: str, pos: Pos, language_id: str | None = None) -> None:
        """Bring the syntax tree and the context choice for ``pos`` up to date now (the LSP
        server calls this while the debounce runs: what :meth:`complete` then does before
        the model is mostly cached). Without a loaded local model, only the tree."""
        doc = self.documents.sync(uri, text, language_id)
        backend = self.host.loaded()
        if backend is None or getattr(backend, "remote_tokenizer", False):
            doc.advance_parse(self.completion_parse_s)
            return
        self.completion_prompt(backend, doc, pos)
        # the whole file's count for the report, on another thread from now on: started
        # when the model starts, it made small answers wait for it
        self.whole_file.start(backend, doc)

    def prefill_at(self, uri: str, text: str, pos: Pos, language_id: str | None = None) -> int:
        """Evaluates the prompt a completion at ``pos`` would send into the model process's
        cache while the user is idle there, so that the first completion at ``pos``
        evaluates only its tail. Returns the number of tokens sent (0: nothing to do)."""
        backend = self.host.loaded()
        if backend is None or not getattr(backend, "in_worker", False):
            return 0
        doc = self.documents.sync(uri, text, language_id)
        prompt = self.completion_prompt(backend, doc, pos)
        tokens = prompt.tokens[:-1]  # token healing evaluates the last one again
        self.host.prefill(tokens)
        return len(tokens)

    async def complete(
        self,
        uri: str,
        text: str,
        pos: Pos,
        language_id: str | None = None,
        action: str = "inline",
        cancel: threading.Event | None = None,
        *,
        single_line: bool = False,
        heal: bool = True,
    ) -> Completion:
        """``single_line`` stops at the end of the line wherever the cursor is (calibration
        measures one-line suggestions); ``heal=False`` turns token healing off (bench)."""
        doc = self.documents.sync(uri, text, language_id)
        backend = await self.host.backend()
        prompt = await off_loop_if_remote(backend, self.completion_prompt, backend, doc, pos)
        tokens, heal_prefix = prompt.tokens, ""
        healed = (
            heal_prompt(prompt.tokens, _detokenizer(backend))
            if heal and backend.info().token_healing
            else None
        )
        sent: dict[str, Any] = prompt.to_dict()
        if healed is not None:  # token healing: the last token is regenerated, constrained
            tokens, heal_prefix = healed.tokens, healed.heal_prefix
            sent["text"] = prompt.text[: len(prompt.text) - len(heal_prefix)]
            sent["prompt_tokens"] = len(tokens)
        sent["heal_prefix"] = heal_prefix
        self.last_prompt = {"kind": "completion", "uri": uri, **sent}
        log.debug("completion prompt for %s: %r", uri, sent["text"])  # file text: debug only
        index = self.line_index(doc)
        line, column = index.clamp(pos)
        with doc.parse_budget(self.completion_parse_s):
            before = node_before(doc, line, prompt.line_prefix)
        multiline = not single_line and wants_multiline(
            prompt.line_prefix, prompt.line_suffix, before
        )
        optimize = self.typing_optimizations
        key: CacheKey = (
            token_key(tokens),
            self.settings.max_tokens,
            self.settings.temperature,
            self.settings.seed,
            multiline,
            heal_prefix,
        )
        hit = self.results.get(key) if optimize else None
        request = GenerationRequest(
            prompt=tokens,
            max_tokens=self.settings.max_tokens,
            temperature=self.settings.temperature,
            seed=self.settings.seed,
            heal_prefix=heal_prefix,
            stop=completion_stop(prompt.line_prefix, multiline),
            deadline=time.monotonic() + self.settings.max_completion_ms / 1000.0,
            # a prompt paid for gets its tokens: generation may go on past the cap
            min_generation_ms=self.settings.max_completion_ms * GENERATION_SHARE,
            text=sent["text"],
            infill=fim_parts(prompt),
            reuse_prefix=optimize,
        )
        if cancel is not None:
            request.cancel = cancel
        counting = self.whole_file.start(backend, doc)
        result = hit.as_result() if hit else await self.host.generate(request)
        whole_file = await self.whole_file.result(counting)
        text_out = result.text
        if multiline and result.stop_reason != "stop":  # ran out: the last line counts too
            text_out = cut_at_scope_end(text_out, completion_stop(prompt.line_prefix, True))
        inserted = trim_completion(text_out, prompt.line_suffix)
        following = "".join(index.lines[line + 1 : line + 1 + FOLLOWING_LINES])
        inserted = cut_repeated_lines(inserted, prompt.line_prefix, following)
        offset = int(index.starts[line]) + column
        start = index.position(offset)
        report, hidden = self.completion_report(
            backend, action, uri, start, inserted, result, prompt.format, prompt_context(prompt)
        )
        report["context"]["heal_prefix"] = heal_prefix
        attach_whole_file(report, whole_file, self.settings.pricing)
        report["cache"] = ("hit" if hit else "miss") if optimize else "off"
        if hit:
            report["cached_from"] = hit.report_id
        elif optimize and result.stop_reason in CACHEABLE_STOPS:
            self.results.put(key, cached_text(result, report["id"]))
        if hidden:
            self.session.hidden += 1
        self.session.add(report)
        shown = None
        if optimize:
            kept = (hit or cached_text(result, report["id"])).first(len(inserted))
            shown = Shown(doc.text, offset, start.line, start.character, kept, prompt.format)
        return Completion(inserted, report, hidden, shown, result)

    def completion_report(
        self,
        backend: Backend,
        action: str,
        uri: str,
        start: Pos,
        inserted: str,
        result: GenerationResult,
        prompt_format: str,
        context: dict[str, Any],
    ) -> tuple[dict[str, Any], bool]:
        """The report of a completion, calibrated, and whether ``minConfidence`` hides it."""
        usage = Usage()
        usage.add(result)
        report = build_report(
            kind="completion",
            action=action,
            uri=uri,
            start=start,
            inserted=inserted,
            result=result,
            usage=usage,
            info=backend.info(),
            settings=self.settings,
            prompt_format=prompt_format,
            encoding=self.position_encoding,
            syntax_ok=None,
            reason="completions are not syntax-checked until accepted",
            context=context,
        )
        self.calibrate(report, backend)
        score = report["confidence"]["score"]
        hidden = bool(
            self.settings.min_confidence > 0
            and (score is None or score < self.settings.min_confidence)
        )
        report["hidden"] = hidden
        return report, hidden

    def calibrate(self, report: dict[str, Any], backend: Backend) -> None:
        """The calibrated score in the report, when the model has a calibration map."""
        calibrate_confidence(report["confidence"], self.calibrations.get(backend.info().sha256))
        while self.calibrations.problems:  # an unusable map: said once, raw scores shown
            self.host.notes.append("edgewise: " + self.calibrations.problems.pop(0))

    def type_through(
        self, uri: str, text: str, pos: Pos, action: str = "inline"
    ) -> Completion | None:
        """The rest of the suggestion last shown in ``uri`` when the user has typed its
        first characters (or the same suggestion for the same state); no model call."""
        backend = self.host.loaded()
        if not self.typing_optimizations or backend is None:
            return None
        found = self.shown.match(uri, text, pos.line, pos.character, self.position_encoding)
        if found is None:
            return None
        shown, typed = found
        rest = shown.suggestion.without_first(len(typed))
        report, hidden = self.completion_report(
            backend,
            action,
            uri,
            pos,
            rest.text,
            rest.as_result(),
            shown.prompt_format,
            {"notes": [f"type-through: {len(typed)} characters typed"]},
        )
        report["cache"] = "type-through" if typed else "hit"
        report["cached_from"] = rest.report_id
        self.session.add(report)
        next_shown = Shown(
            text, shown.offset + len(typed), pos.line, pos.character, rest, shown.prompt_format
        )
        return Completion(rest.text, report, hidden, next_shown)

    # --- actions -----------------------------------------------------------------------

    def available_actions(
        self,
        uri: str,
        text: str,
        start: Pos,
        end: Pos,
        language_id: str | None = None,
        diagnostics: list[Mapping[str, Any]] | None = None,
        workspace: Workspace | None = None,
    ) -> list[Offer]:
        """The actions that apply at the range (cheap: no model call)."""
        doc = self.documents.sync(uri, text, language_id)
        start_byte, end_byte = byte_range(doc.text, start, end, self.position_encoding)
        return offers(
            doc,
            start_byte,
            end_byte,
            list(diagnostics or []),
            workspace or Workspace(),
            self.position_encoding,
        )

    async def run_action(
        self,
        action_id: str,
        uri: str,
        text: str,
        start: Pos,
        end: Pos,
        language_id: str | None = None,
        **options: Any,
    ) -> ActionResult:
        """Run one action (options: diagnostic, instruction, workspace, cancel,
        on_attempt; see actions/runner.py)."""
        return await ActionRunner(self).run(
            action_id, uri, text, start, end, language_id, **options
        )


async def off_loop_if_remote(backend: Backend, fn: Callable[..., T], *args: Any) -> T:
    """Runs ``fn`` in a thread when the backend tokenizes over HTTP (remote servers), so
    the LSP keeps answering while prompts are built; inline otherwise."""
    if getattr(backend, "remote_tokenizer", False):
        return await asyncio.to_thread(fn, *args)
    return fn(*args)


def fim_parts(prompt: Prompt) -> tuple[str, str, str] | None:
    """Context before, text after, and the cursor line's start: what /infill takes."""
    if prompt.format != "fim":
        return None
    before = "".join(p.text for p in prompt.pieces if p.kind in ("scope_header", "prefix"))
    after = "".join(p.text for p in prompt.pieces if p.kind == "suffix")
    return before, after, prompt.line_prefix


def prompt_context(prompt: Prompt) -> dict[str, Any]:
    return {
        "pieces": [p.to_dict() for p in prompt.pieces],
        "assembly_ms": round(prompt.assembly_ms, 3),
        "notes": prompt.notes,
    }


def wants_multiline(line_prefix: str, line_suffix: str, node: Any = None) -> bool:
    """Multi-line at a blank line or right after a block opener; one line mid-expression,
    in a comment or string, or after an inline ':' (the syntax tree's ``node`` before the
    cursor decides when there is one)."""
    if line_suffix.strip():
        return False
    stripped = line_prefix.rstrip()
    if not stripped:
        return True
    decided = opens_block(node) if node is not None else None
    if decided is not None:
        return decided
    return stripped.endswith((":", "{", "(", "[", "=>"))


def completion_stop(line_prefix: str, multiline: bool) -> CompletionStop:
    return CompletionStop(line_prefix, multiline)


def marker_stop(markers: tuple[str, ...]) -> MarkerStop:
    return MarkerStop(markers)


def trim_completion(text: str, line_suffix: str) -> str:
    """Drop trailing blank space and any overlap with the text already after the cursor."""
    out = text.rstrip()
    rest = line_suffix.strip()
    if rest and out.endswith(rest):
        out = out[: len(out) - len(rest)].rstrip()
    return out


def _detokenizer(backend: Backend) -> Any:
    return lambda token: backend.detokenize([token])
