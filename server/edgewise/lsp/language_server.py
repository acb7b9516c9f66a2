"""The language server's state (its engine, the documents' diagnostics, the workspace
roots, what the client can do) and what every handler uses: messages to the user, the
status notification, diagnostics. The handlers themselves live per area (documents.py,
completion.py, code_actions.py, action_commands.py, commands.py, lifecycle.py) and are
registered in server.py."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.io_ import StdinAsyncReader, StdoutWriter

from edgewise import __version__
from edgewise.config import Settings, parse_settings
from edgewise.context.positions import units
from edgewise.engine import Engine
from edgewise.errors import BadInput, EdgewiseError, severity, user_message
from edgewise.lsp.collector import CollectorPause
from edgewise.lsp.command_ids import STATUS
from edgewise.lsp.diagnostics import DiagnosticBook
from edgewise.lsp.guard import EditGuard
from edgewise.lsp.handed_out import HandedOut
from edgewise.lsp.parse_scheduling import PARSE_BUDGET_S, ParseScheduler
from edgewise.lsp.pygls_hooks import HookedServer, stop_event_for
from edgewise.lsp.transport import EdgewiseProtocol, PipeStdinReader, serve_frames
from edgewise.lsp.workspace_roots import WorkspaceRoots
from edgewise.memory import MemoryKeeper
from edgewise.model.worker_client import WorkerGone
from edgewise.redact import redact
from edgewise.report.builder import summary

log = logging.getLogger(__name__)

GIL_SWITCH_S = 0.0005


class EdgewiseServer(HookedServer):
    """All state lives here (and in its engine), never in module globals."""

    protocol: EdgewiseProtocol  # pygls builds it from ``protocol_cls``

    def __init__(self, settings: Settings | None = None, allow_download: bool = True) -> None:
        super().__init__(
            "edgewise",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=EdgewiseProtocol,
        )
        self.memory = MemoryKeeper()
        self.collector = CollectorPause()  # no garbage collection while an answer is due
        self.memory.limit_arenas()  # before the model's and the ledger's threads start
        # a keystroke read while the model thread runs Python between tokens waited up
        # to the 5 ms default for the GIL (measured: requests read 5-10 ms late)
        sys.setswitchinterval(GIL_SWITCH_S)
        self.engine = Engine(settings, allow_download=allow_download)
        self.engine.host.on_change = self.model_changed
        self.bound_parses()
        self.book = DiagnosticBook(self.line_length, lambda: self.engine.position_encoding)
        self.handed_out = HandedOut()  # code-action edits given out, shown when they arrive
        # the workspace folders: the edit guard and the context engine read the same ones
        self.roots = WorkspaceRoots()
        self.roots.on_change(self.engine_roots)
        self.guard = EditGuard(self.roots)
        self.resolve_edits = False
        self.action_literals = True  # clients without CodeAction literals get Commands
        self.document_changes = False
        # per document, the cancel event of the completion under way (at most one)
        self.completing: dict[str, threading.Event] = {}
        self.busy = 0  # model requests under way
        self.parses = ParseScheduler(
            self.engine, lambda: self.workspace, self.completing, self.input_arrived
        )
        self._told: set[str] = set()
        self._reader: PipeStdinReader | None = None  # stdio pipes: says when input arrives

    def engine_roots(self, paths: list[Any]) -> None:
        self.engine.workspace_roots = paths

    def serve_stdio(self, stdin: BinaryIO | None, stdout: BinaryIO | None) -> None:
        """The stdio loop, with :func:`serve_frames` answering broken frames."""
        stop = threading.Event()
        stop_event_for(self, stop)
        stream = stdin or sys.stdin.buffer
        reader: PipeStdinReader | StdinAsyncReader
        if PipeStdinReader.usable(stream):
            reader = self._reader = PipeStdinReader(stream)
        else:  # a file or a terminal: pygls' reader, on a thread
            reader = StdinAsyncReader(stream, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        exit_code = 0
        try:
            asyncio.run(serve_frames(stop, reader, self.protocol))
        except BrokenPipeError:
            log.error("the client went away")
        except SystemExit as exc:  # `exit`: 1 when no `shutdown` came first (the spec)
            exit_code = exc.code if isinstance(exc.code, int) else 0
        except KeyboardInterrupt:
            pass
        finally:
            self.engine.close()
            self.shutdown()  # type: ignore[no-untyped-call]  # pygls leaves JsonRPCServer.shutdown unannotated
        if exit_code:
            raise SystemExit(exit_code)

    def input_arrived(self) -> Callable[[], bool] | None:
        """A test of whether client input is waiting (None when the reader cannot tell)."""
        return self._reader.arrived() if self._reader is not None else None

    # --- messages to the user ----------------------------------------------------------

    def tell(
        self, message: str, kind: types.MessageType = types.MessageType.Info, once: bool = True
    ) -> bool:
        """Show a message, by default once per session (repeated errors do not spam the
        editor; ``once=False``: an answer to what the person just asked for); True if it
        was shown now."""
        message = redact(message)
        if once and message in self._told:
            return False
        self._told.add(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        self.window_log_message(types.LogMessageParams(type=kind, message=message))
        return True

    def tell_error(self, exc: EdgewiseError, once: bool = True) -> bool:
        """What a request ended in, told the user once: the one path from a typed error
        to the editor's message (``errors.user_message``; ``errors.severity``: a request
        that cannot be served as asked is a warning, a model that cannot run an error).
        A worker that died is told by its supervision (``model_changed``), not here."""
        if isinstance(exc, WorkerGone):
            return False
        kind = types.MessageType.Warning if severity(exc) == "warning" else types.MessageType.Error
        return self.tell(user_message(exc), kind, once)

    def tell_notes(self) -> None:
        while self.engine.host.notes:
            self.tell(self.engine.host.notes.pop(0))

    def apply_settings(self, raw: Any) -> None:
        result = parse_settings(raw)
        for problem in result.problems:
            self.tell_error(BadInput(problem))
        self.engine.configure(result.settings)
        self.bound_parses()
        if self.protocol.writer is not None:  # a budget changed: the status says so now
            self.status("busy" if self.busy else "idle")

    def bound_parses(self) -> None:
        """Completions re-parse within a time limit while typing (``typingOptimizations``);
        whatever it takes otherwise."""
        optimize = self.engine.typing_optimizations
        self.engine.completion_parse_s = PARSE_BUDGET_S if optimize else None

    def model_changed(self) -> None:
        """The model process was loaded, crashed, restarted or given up on: the status
        says so at once (never "ready" meanwhile), and the user is told once."""
        if self.protocol.writer is None:
            return
        alerts = self.engine.host.alerts
        while alerts:
            self.tell(alerts.pop(0), types.MessageType.Warning)
        self.tell_notes()
        self.status("busy" if self.busy else "idle")

    @contextmanager
    def working(self) -> Iterator[None]:
        """Around a model request: the status says busy while any runs."""
        self.busy += 1
        self.status("busy")
        try:
            yield
        finally:
            self.busy = max(self.busy - 1, 0)

    def status(self, state: str, report: dict[str, Any] | None = None) -> None:
        host = self.engine.host
        model: dict[str, Any] = {"state": host.state, "message": host.state_message}
        facts = host.facts()
        if facts is not None:
            model.update(
                pid=facts.pid,
                extraBuffers=facts.extra_buffers,
                extraBuffersReason=facts.extra_buffers_reason,
                cpuFeatures=facts.system_info,
                promptTokensPerSecond=facts.prompt_tokens_per_s,
                generatedTokensPerSecond=facts.generated_tokens_per_s,
            )
        params: dict[str, Any] = {
            "state": state if host.state in ("ready", "not loaded") else host.state,
            "model": model,
            "session": dict(self.engine.session.ledger.session),
            "hidden": self.engine.session.hidden,
            "repeats": self.engine.session.repeats,
        }
        budget = self.engine.budget.status()
        if budget is not None:  # {"text": "this week: 61 % of budget", "level", "percent"}
            params["budget"] = budget
            for message in self.engine.budget.news():
                self.tell(message, types.MessageType.Warning)
        notice = notice_for(report) if report is not None else None
        if notice is not None:
            params["notice"] = notice
        log = self.engine.session.ledger.log
        while log is not None and log.errors:
            problem = EdgewiseError(log.errors.pop(0))  # the ledger could not be written
            self.tell(user_message(problem), types.MessageType.Warning)
        if report is not None:
            params["last"] = {
                "id": report["id"],
                "summary": summary(report),
                "cache": report.get("cache"),
                "start": report["range"]["start"],
                "tokens": report["tokens"],
                "time_ms": report["time_ms"],
            }
        self.protocol.notify(STATUS, params)

    # --- diagnostics ---------------------------------------------------------------------

    def publish(self, uri: str) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=self.book.get(uri))
        )

    def show_report(self, report_id: str) -> bool:
        """The report's diagnostics in its document; False for an unknown report."""
        report = self.engine.session.reports.get(str(report_id))
        if report is None:
            return False
        if not self.handed_out.settle(report["id"]):
            return True  # shown already: its edit arrived before the command
        self.engine.session.outcome(report["id"], "applied")  # accepted or applied
        self.book.add_report(report["uri"], report)
        self.publish(report["uri"])
        return True

    def line_length(self, uri: str, line: int) -> int | None:
        """A line's length in the negotiated encoding (None: not an open document's)."""
        if not self.is_open(uri):
            return None
        lines = self.workspace.get_text_document(uri).lines
        if not 0 <= line < len(lines):
            return None
        return units(lines[line].rstrip("\r\n"), self.engine.position_encoding)

    def is_open(self, uri: str) -> bool:
        return uri in self.workspace.text_documents


NOTICE_MS = 4000  # how long an editor shows a notice in its status


CUT_TO_NOTHING = {
    "echo_suffix": "it repeated the text after the cursor",
    "echo_below": "it repeated the lines below",
    "echo_above": "it repeated the lines above",
    "loop": "it repeated itself",
    "unsure": "the model was not sure of it",
}


def notice_for(report: dict[str, Any]) -> dict[str, Any] | None:
    """What the status says for a moment when a suggestion was made but nothing of it
    is shown (else the person sees nothing and may think the tool is broken): hidden
    for low confidence, or cut to nothing (an echo, a loop)."""
    if report.get("hidden") is True:
        score = report.get("confidence", {}).get("score")
        sure = f"{score:.2f}" if isinstance(score, int | float) else "no score"
        return {"kind": "hidden", "text": f"hidden: not sure enough ({sure})", "ms": NOTICE_MS}
    for cut in report.get("cuts") or []:
        if cut.get("kept") == 0:
            why = CUT_TO_NOTHING.get(str(cut.get("reason")), "it was cut")
            return {"kind": "cut", "text": f"not shown: {why}", "ms": NOTICE_MS}
    return None
