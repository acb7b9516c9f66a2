"""What every request shares: documents, workspace, model host, session and ledger,
calibrations, caches. One ``Services`` per server (or batch run, or CLI command)."""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgewise.actions.checkers import Checkers
from edgewise.calibration.store import CalibrationMap, CalibrationStore
from edgewise.completion_cache import ResultCache, ShownSuggestions
from edgewise.config import Settings
from edgewise.context.documents import DocumentStore, ParsedDocument
from edgewise.context.languages import LanguageRegistry
from edgewise.context.positions import LineIndex
from edgewise.context.prompt import Neighbours, PromptBuilder
from edgewise.context.recent_edits import RecentEdits
from edgewise.context.workspace import WorkspaceIndex, uri_to_path
from edgewise.model.backend import Backend, GenerationResult
from edgewise.model.host import ModelHost
from edgewise.paths import state_dir
from edgewise.report.budget import BudgetTracker
from edgewise.report.cost import active_ms
from edgewise.report.ledger import LOG_NAME, Ledger, ReportLog
from edgewise.report.outcomes import make_event
from edgewise.report.prompt_store import PromptStore
from edgewise.report.whole_file import WholeFileCounter

# "1": the typing-speed baseline the benchmarks compare against (a bench option, no setting)
BENCH_BASELINE_ENV = "EDGEWISE_BENCH_BASELINE"

SNIPPET_DOCUMENTS = 8  # other open documents snippets are looked for in
REPORTS_KEPT = 200  # the latest reports by id (reportApplied, hovers); the ledger has all


@dataclass
class Session:
    """Everything produced this session: the latest reports by id, and the ledger (exact
    running totals, and the JSON Lines log) every report goes into."""

    reports: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    hidden: int = 0
    repeats: int = 0  # generations the repeat guard stopped
    echoes: int = 0  # completions cut or dropped because they echoed the text around
    ledger: Ledger = field(default_factory=lambda: Ledger(None))
    last_request_at: float | None = None  # time.monotonic() of the latest report

    def add(self, report: dict[str, Any]) -> None:
        self.reports[report["id"]] = report
        if report.get("stop_reason") == "repeat":
            self.repeats += 1
        while len(self.reports) > REPORTS_KEPT:
            self.reports.popitem(last=False)
        self.ledger.record(report)

    def active_ms(self, model_ms: float, now: float | None = None) -> float:
        """The active use the request finishing now accounts for (report/cost.py
        ``active_ms``: the time since the previous one, unless that was a pause)."""
        now = time.monotonic() if now is None else now
        since = None if self.last_request_at is None else (now - self.last_request_at) * 1000.0
        self.last_request_at = now
        return active_ms(model_ms, since)

    def outcome(self, report_id: str, outcome: str, report: dict[str, Any] | None = None) -> bool:
        """What became of a report (accepted, superseded, applied, refused, proposed):
        into the ledger's split of where the tokens went. False for a report no longer
        held (``report``: the report itself, when the caller has it)."""
        report = report or self.reports.get(str(report_id))
        if report is None:
            return False
        span = report["range"]
        lines = span["end"]["line"] - span["start"]["line"] + 1
        self.ledger.outcome(make_event(report["id"], outcome, lines))
        origin = report.get("cached_from")  # served again without a model call: the
        if origin and outcome in ("accepted", "applied"):  # call that made it, accepted
            self.ledger.outcome(make_event(str(origin), "accepted", 0))
        return True


class Services:
    """The state the pipeline stages share; the doors set ``position_encoding``,
    ``workspace_roots`` and ``completion_parse_s``."""

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
        self.recent_edits = RecentEdits()  # what the user just did, for the prompt
        self.recent_edits.listen_to(self.documents)
        self.host = ModelHost(self.settings, allow_download)
        if report_log is True:  # the default: the log in the user's state directory
            report_log = ReportLog(state_dir() / LOG_NAME)
        self.session = Session(ledger=Ledger(report_log or None))
        self.budget = BudgetTracker(self.session.ledger, self.settings.budget)
        self.whole_file = WholeFileCounter()
        self.last_prompt: dict[str, Any] | None = None  # exactly what was last sent
        self.prompts = PromptStore()  # written only with keepPrompts (for `edgewise replay`)
        self.position_encoding = "utf-16"  # set by the LSP server at initialize
        self.calibrations = CalibrationStore()  # per model sha256, from `edgewise calibrate`
        self._builders: dict[int, PromptBuilder] = {}
        self._line_index: LineIndex | None = None
        self.results = ResultCache()  # model results by prompt tokens (typing speed)
        self.shown = ShownSuggestions()  # last suggestion shown per document (type-through)
        self.checkers = Checkers()  # the project's own checkers on each edit (cached)
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
        self.budget.configure(settings.budget)
        if self.host.configure(settings):
            self._builders.clear()
            self.results.clear()
            self.shown.clear()

    def keep_prompt(self, report: dict[str, Any], result: GenerationResult) -> None:
        """With ``keepPrompts``: the report's model call into the prompt store."""
        if not self.settings.keep_prompts or result.sent is None:
            return
        if not self.prompts.keep(report["id"], result.sent, report["model"]["sha256"]):
            self.host.notes.append("edgewise: " + self.prompts.errors.pop())

    def close(self) -> None:
        self.host.close()
        self.session.ledger.close()  # every report recorded is in the log

    def builder(self, backend: Backend) -> PromptBuilder:
        """The completion prompt builder of ``backend`` (one at a time: it keeps the last
        context choice per document)."""
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

    def neighbours(self, doc: ParsedDocument) -> Neighbours:
        """The recent edits and the other open documents a prompt for ``doc`` may draw on,
        as the settings allow."""
        settings = self.settings
        others: tuple[ParsedDocument, ...] = ()
        if settings.open_file_snippets:
            opened = [d for d in self.documents.all() if d is not doc]
            others = tuple(opened[-SNIPPET_DOCUMENTS:])  # the latest opened
        recent = self.recent_edits if settings.recent_edits else None
        return Neighbours(recent, others, self.workspace_member(doc.uri))

    def workspace_member(self, uri: str) -> Callable[[str], bool]:
        """Whether a document's text may join a prompt for ``uri``: it is inside a
        workspace root (without roots: in the folder of ``uri`` or below), as for the
        files imports are read from; a document without a path never is."""
        here = uri_to_path(uri) if uri.startswith("file:") else None
        roots = self.workspace.roots or ([here.resolve().parent] if here is not None else [])

        def member(other: str) -> bool:
            path = uri_to_path(other) if other.startswith("file:") else None
            if path is None:
                return False
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError):
                return False
            return any(root in resolved.parents for root in roots)

        return member

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
        self.recent_edits.close_document(uri)
        for builder in self._builders.values():
            builder.forget(uri)
            builder.snippets.forget(uri)
        if doc is not None and self._line_index is not None and self._line_index.text is doc.text:
            self._line_index = None

    def calibration(self, backend: Backend) -> CalibrationMap | None:
        """The model's calibration map, if it has one."""
        found = self.calibrations.get(backend.info().sha256)
        while self.calibrations.problems:  # an unusable map: said once, raw scores shown
            self.host.notes.append("edgewise: " + self.calibrations.problems.pop(0))
        return found
