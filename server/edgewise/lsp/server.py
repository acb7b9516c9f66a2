"""`edgewise serve`: the LSP front door of the engine (pygls 2)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
import threading
from typing import Any, BinaryIO
from urllib.parse import unquote

from lsprotocol import types
from pygls.io_ import StdinAsyncReader, StdoutWriter
from pygls.lsp.server import LanguageServer

from edgewise import __version__
from edgewise.config import Settings, parse_settings, unwrap
from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import Pos
from edgewise.engine import Completion, Engine
from edgewise.lsp.diagnostics import DiagnosticBook, report_diagnostics
from edgewise.lsp.guard import EditGuard
from edgewise.lsp.transport import RECEIVED_AT, EdgewiseProtocol, PipeStdinReader, serve_frames
from edgewise.lsp.workspace import LspWorkspace
from edgewise.lsp.workspace_roots import workspace_roots
from edgewise.memory import MemoryKeeper
from edgewise.model.backend import ModelError
from edgewise.model.worker_client import WorkerGone
from edgewise.redact import redact
from edgewise.report.builder import summary

log = logging.getLogger(__name__)

CMD_REPORT_APPLIED = "edgewise.reportApplied"
CMD_INLINE_ACCEPTED = "edgewise.inlineAccepted"
CMD_COST_REPORT = "edgewise.costReport"
CMD_LAST_PROMPT = "edgewise.lastPrompt"
CMD_APPLY_ACTION = "edgewise.applyAction"
CMD_DOCUMENT_STATE = "edgewise.documentState"
STATUS = "edgewise/status"
QUIET_AFTER_PREPARE = 0.03  # seconds: lets input sent during a long preparation arrive
# seconds a completion may spend re-parsing when the debounce did not bring the tree up
# to date (an edit that opens a string re-parses the rest of a big file: 100+ ms at
# 10,000 lines); longer re-parses wait for a pause in typing this long
PARSE_BUDGET_S = 0.004
IDLE_PARSE_S = 1.0
GIL_SWITCH_S = 0.0005
WARM_UP_AFTER_S = 0.02  # after didOpen: messages sent with it are read first
PREFILL_AFTER_S = 0.3  # the cursor rests this long before its prompt is prefilled
CODE_ACTION_KINDS = [
    types.CodeActionKind.RefactorRewrite,
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.Refactor,
]


class EdgewiseServer(LanguageServer):
    """All state lives here (and in its engine), never in module globals."""

    def __init__(self, settings: Settings | None = None, allow_download: bool = True) -> None:
        super().__init__(
            "edgewise",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=EdgewiseProtocol,
        )
        self.memory = MemoryKeeper()
        self.memory.limit_arenas()  # before the model's and the ledger's threads start
        # a keystroke read while the model thread runs Python between tokens waited up
        # to the 5 ms default for the GIL (measured: requests read 5-10 ms late)
        sys.setswitchinterval(GIL_SWITCH_S)
        self.engine = Engine(settings, allow_download=allow_download)
        self.engine.host.on_change = self.model_changed
        self.bound_parses()
        self.book = DiagnosticBook()
        self.guard = EditGuard()
        self.resolve_edits = False
        self.action_literals = True  # clients without CodeAction literals get Commands
        self.document_changes = False
        self._told: set[str] = set()
        self._latest: dict[str, threading.Event] = {}
        self._idle_parse: dict[str, asyncio.TimerHandle] = {}
        self._prefill: dict[str, asyncio.TimerHandle] = {}
        self._busy = 0
        self._reader: PipeStdinReader | None = None  # stdio pipes: says when input arrives

    def _start_io_async(
        self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
    ) -> None:
        """pygls' stdio loop, with :func:`serve_frames` answering broken frames."""
        self._stop_event = threading.Event()
        stream = stdin or sys.stdin.buffer
        reader: PipeStdinReader | StdinAsyncReader
        if PipeStdinReader.usable(stream):
            reader = self._reader = PipeStdinReader(stream)
        else:  # a file or a terminal: pygls' reader, on a thread
            reader = StdinAsyncReader(stream, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        exit_code = 0
        try:
            asyncio.run(serve_frames(self._stop_event, reader, self.protocol))  # type: ignore[arg-type]
        except BrokenPipeError:
            log.error("the client went away")
        except SystemExit as exc:  # `exit`: 1 when no `shutdown` came first (the spec)
            exit_code = exc.code if isinstance(exc.code, int) else 0
        except KeyboardInterrupt:
            pass
        finally:
            self.engine.close()
            self.shutdown()
        if exit_code:
            raise SystemExit(exit_code)

    # --- messages to the user ----------------------------------------------------------

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """Show a message once per session (repeated errors do not spam the editor)."""
        message = redact(message)
        if message in self._told:
            return
        self._told.add(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def model_error(self, exc: ModelError) -> None:
        if isinstance(exc, WorkerGone):  # the supervision tells what happened, once
            return
        self.tell(f"edgewise: {exc}", types.MessageType.Error)

    def tell_notes(self) -> None:
        while self.engine.host.notes:
            self.tell(self.engine.host.notes.pop(0))

    def apply_settings(self, raw: Any) -> None:
        result = parse_settings(raw)
        for problem in result.problems:
            self.tell(f"edgewise: {problem}", types.MessageType.Warning)
        self.engine.configure(result.settings)
        self.bound_parses()

    def bound_parses(self) -> None:
        """Completions re-parse within a time limit while typing (unless in the benchmarks'
        baseline, ``Engine.typing_optimizations``); whatever it takes otherwise."""
        optimize = self.engine.typing_optimizations
        self.engine.completion_parse_s = PARSE_BUDGET_S if optimize else None

    def schedule_idle_parse(self, uri: str, version: int | None) -> None:
        parsed = self.engine.documents.get(uri)
        if parsed is None or not parsed.parse_pending:
            return
        previous = self._idle_parse.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._idle_parse[uri] = loop.call_later(IDLE_PARSE_S, self.parse_when_idle, uri, version)

    def schedule_warm_up(self, uri: str) -> None:
        """After a document opens: build what its first completion needs (the context's
        tables of the whole file, its token count) in the moment the user looks for where
        to type, instead of in the first keystroke's answer (~0.1 s on 10,000 lines)."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(WARM_UP_AFTER_S, self.warm_up, uri, doc, doc.version)

    def warm_up(self, uri: str, doc: Any, version: int | None) -> None:
        if not self.is_current(uri, doc, version) or uri in self._latest:
            return  # typing already started: the completion does this work itself
        try:
            self.engine.prepare(uri, doc.source, Pos(0, 0), doc.language_id)
        except Exception:  # a completion meets the same problem and says it
            log.debug("warming up %s failed", uri, exc_info=True)

    def schedule_prefill(self, uri: str, pos: Pos) -> None:
        """The cursor is at ``pos`` (editors ask for code actions as it moves): after a
        short pause there, the prompt a completion at ``pos`` would send is evaluated in
        the model process, so the first completion evaluates only its tail. Not while
        completions run for the document: they keep the cache current themselves."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None or uri in self._latest:
            return
        previous = self._prefill.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._prefill[uri] = loop.call_later(
            PREFILL_AFTER_S, self.prefill_when_idle, uri, doc.version, pos
        )

    def prefill_when_idle(self, uri: str, version: int | None, pos: Pos) -> None:
        self._prefill.pop(uri, None)
        idle = self.idle_document(uri, version)
        if idle is None:
            return
        try:
            self.engine.prefill_at(uri, idle[0].source, pos, idle[0].language_id)
        except Exception:  # a completion meets the same problem and says it
            log.debug("prefilling %s failed", uri, exc_info=True)

    def parse_when_idle(self, uri: str, version: int | None) -> None:
        """After a pause in typing: the re-parse that did not fit in a keystroke's time
        (100-200 ms on 10,000 lines), then, as a separate step, the tables catching up
        with it. Input arriving stops the parse (it is tried again in the next pause) and
        skips the catch-up: typing resumed, and its keystrokes come first."""
        self._idle_parse.pop(uri, None)
        idle = self.idle_document(uri, version)
        if idle is None or not idle[1].parse_pending or idle[1].text != idle[0].source:
            return
        parsed = idle[1]
        arrived = self._reader.arrived() if self._reader is not None else None
        if not parsed.advance_parse(None, arrived):
            self.schedule_idle_parse(uri, version)
        elif parsed.parse_pending and not (arrived and arrived()):
            asyncio.get_running_loop().call_soon(self.catch_up_when_idle, uri, version)

    def catch_up_when_idle(self, uri: str, version: int | None) -> None:
        idle = self.idle_document(uri, version)
        if idle is not None:
            idle[1].catch_up()

    def idle_document(self, uri: str, version: int | None) -> tuple[Any, ParsedDocument] | None:
        """The open document and its parse, if still at ``version`` and not being typed in
        (no completion under way for it)."""
        doc = self.workspace.text_documents.get(uri)
        parsed = self.engine.documents.get(uri)
        if doc is None or parsed is None or doc.version != version or uri in self._latest:
            return None
        return doc, parsed

    def model_changed(self) -> None:
        """The model process was loaded, crashed, restarted or given up on: the status
        says so at once (never "ready" meanwhile), and the user is told once."""
        if self.protocol.writer is None:
            return
        alerts = self.engine.host.alerts
        while alerts:
            self.tell(alerts.pop(0), types.MessageType.Warning)
        self.tell_notes()
        self.status("busy" if self._busy else "idle")

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
        }
        log = self.engine.session.ledger.log
        while log is not None and log.errors:
            self.tell(f"edgewise: {log.errors.pop(0)}", types.MessageType.Warning)
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

    def publish(self, uri: str) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=self.book.get(uri))
        )

    # --- completions -------------------------------------------------------------------

    async def completion_at(
        self, uri: str, position: types.Position, action: str
    ) -> Completion | None:
        """Debounced, superseding, cancellable completion; None when there is nothing to
        show, and always None for a position that is no longer current (a newer request
        for the document, or an edit, came in meanwhile). With the typing
        optimizations off (the benchmarks' baseline), every request runs the model to the end and is answered (the baseline)."""
        if uri not in self.workspace.text_documents:
            return None  # only documents the client opened
        loop = asyncio.get_running_loop()
        received = RECEIVED_AT.get()
        arrived = min(received, loop.time()) if received is not None else loop.time()
        doc = self.workspace.get_text_document(uri)
        version = doc.version
        optimize = self.engine.typing_optimizations
        pos = Pos(position.line, position.character)
        previous = self._latest.get(uri)
        if previous is not None and optimize:
            previous.set()  # a newer request supersedes it: stop between tokens
        cancel = threading.Event()
        self._latest[uri] = cancel
        quick = self.engine.type_through(uri, doc.source, pos, action) if optimize else None
        if quick is not None:  # the rest of the suggestion showing: no model call
            if self._latest.get(uri) is cancel:
                del self._latest[uri]
            return self.answer(uri, quick)
        try:
            if self.engine.settings.debounce_ms and optimize:
                await self.prepare_during_debounce(uri, doc, pos, arrived)
            if optimize and (cancel.is_set() or not self.is_current(uri, doc, version)):
                return None
            self._busy += 1
            self.status("busy")
            completion = await self.engine.complete(
                uri, doc.source, pos, doc.language_id, action, cancel
            )
        except ModelError as exc:
            self.model_error(exc)
            return None
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # $/cancelRequest from the client
                cancel.set()
                raise
            return None  # superseded before the model ran: an empty answer
        except Exception as exc:  # a failure inside the model worker: say it, keep serving
            log.exception("completion failed")
            self.tell(
                f"edgewise: completion failed: {type(exc).__name__}: {exc}", types.MessageType.Error
            )
            return None
        finally:
            if self._latest.get(uri) is cancel:
                del self._latest[uri]
            self.schedule_idle_parse(uri, version)
            # freed memory back to the system, once the answer is on its way
            asyncio.get_running_loop().call_later(0.05, self.memory.trim)
            if self._busy:
                self._busy -= 1
        self.tell_notes()
        if optimize and (cancel.is_set() or not self.is_current(uri, doc, version)):
            self.status("idle" if not self._busy else "busy", completion.report)
            return None  # stale: never show text for a position that has moved on
        return self.answer(uri, completion)

    async def prepare_during_debounce(self, uri: str, doc: Any, pos: Pos, arrived: float) -> None:
        """Wait ``debounceMs`` from the request's arrival (loop time ``arrived``: what was
        done since, reading its didChange and the request itself, is part of the wait),
        parsing and choosing the context meanwhile (the work is done while the user
        pauses, not after; a newer keystroke makes it moot).
        A re-parse that does not fit in the debounce (or did not fit last time) is left
        for a pause in typing, and the context is chosen on the previous tree with the
        edits applied (the report's context notes say so).
        A preparation that outlasts the debounce is followed by a short quiet time, so
        keystrokes sent meanwhile are read (and supersede this request) before the model
        is asked."""
        loop = asyncio.get_running_loop()
        debounce = self.engine.settings.debounce_ms / 1000.0
        until = arrived + debounce
        try:
            parsed = self.engine.documents.sync(uri, doc.source, doc.language_id)
            if parsed.parse_pending and not parsed.parse_timed_out:
                # what the debounce leaves, less the quiet time that follows a preparation
                # that outlasts it
                left = until - loop.time() - QUIET_AFTER_PREPARE
                parsed.advance_parse(max(left, PARSE_BUDGET_S))
            self.engine.prepare(uri, doc.source, pos, doc.language_id)
        except Exception:  # complete() meets the same problem and says it
            log.debug("preparing a completion failed", exc_info=True)
        quiet = min(debounce, QUIET_AFTER_PREPARE)
        await asyncio.sleep(max(until - loop.time(), quiet))

    def is_current(self, uri: str, doc: Any, version: int | None) -> bool:
        """The document is still open, as the same object, at the same version."""
        return self.workspace.text_documents.get(uri) is doc and doc.version == version

    def answer(self, uri: str, completion: Completion) -> Completion | None:
        self.status("idle" if not self._busy else "busy", completion.report)
        if completion.hidden or not completion.text:
            self.engine.shown.forget(uri)
            return None
        if completion.shown is not None:
            self.engine.shown.remember(uri, completion.shown)
        return completion


def accepted_command(report: dict[str, Any]) -> types.Command:
    return types.Command(
        title="edgewise: completion accepted", command=CMD_INLINE_ACCEPTED, arguments=[report["id"]]
    )


def create_server(settings: Settings | None = None, allow_download: bool = True) -> EdgewiseServer:
    server = EdgewiseServer(settings, allow_download)
    from edgewise.lsp import code_actions

    @server.feature(types.INITIALIZE)
    def initialize(ls: EdgewiseServer, params: types.InitializeParams) -> None:
        ls.protocol._workspace = LspWorkspace.replacing(ls.workspace)
        ls.apply_settings(params.initialization_options)
        encoding = ls.workspace.position_encoding
        ls.engine.position_encoding = str(getattr(encoding, "value", encoding) or "utf-16")
        caps = params.capabilities
        resolve = caps.text_document and caps.text_document.code_action
        if resolve and resolve.resolve_support and "edit" in resolve.resolve_support.properties:
            ls.resolve_edits = True
        ls.action_literals = bool(resolve and resolve.code_action_literal_support)
        edit_caps = caps.workspace and caps.workspace.workspace_edit
        ls.document_changes = bool(edit_caps and edit_caps.document_changes)
        folders = [f.uri for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        ls.guard.set_roots(folders)
        # context engine: imports are resolved inside the editor's workspace folders
        ls.engine.workspace_roots = workspace_roots(params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: EdgewiseServer, params: types.InitializedParams) -> None:
        try:
            await ls.engine.host.backend()
        except ModelError as exc:
            ls.model_error(exc)
        ls.tell_notes()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(
        ls: EdgewiseServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        ls.guard.set_roots(list(ls.workspace.folders))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: EdgewiseServer, params: types.DidChangeConfigurationParams
    ) -> None:
        # eglot sends `settings: {}` after every start when nothing is configured there:
        # an empty object must not reset the initializationOptions to the defaults.
        if params.settings is not None and unwrap(params.settings) != {}:
            ls.apply_settings(params.settings)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: EdgewiseServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.engine.documents.open(item.uri, item.text, item.language_id)
        ls.schedule_warm_up(item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: EdgewiseServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if unquote(uri) not in ls.workspace.text_documents:
            return  # never opened: nothing of it is known, nothing is read from disk
        doc = ls.workspace.get_text_document(uri)
        ls.engine.documents.sync(uri, doc.source, doc.language_id)
        moved = False
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                moved = ls.book.edited(uri, change.range, change.text) or moved
            elif ls.book.get(uri):
                ls.book.clear(uri)
                moved = True
        if moved:
            ls.publish(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: EdgewiseServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.engine.close_document(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: EdgewiseServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        completion = await ls.completion_at(params.text_document.uri, params.position, "inline")
        if completion is None:
            return types.InlineCompletionList(items=[])
        start = completion.report["range"]["start"]
        position = types.Position(line=start["line"], character=start["character"])
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=completion.text,
                    range=types.Range(start=position, end=position),
                    command=accepted_command(completion.report),
                )
            ]
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " "], resolve_provider=False),
    )
    async def completion(
        ls: EdgewiseServer, params: types.CompletionParams
    ) -> types.CompletionList:
        result = await ls.completion_at(params.text_document.uri, params.position, "completion")
        if result is None:
            return types.CompletionList(is_incomplete=True, items=[])
        first = result.text.split("\n", 1)[0].strip() or result.text.strip()
        score = result.report["confidence"]["score"]
        start = result.report["range"]["start"]
        position = types.Position(line=start["line"], character=start["character"])
        return types.CompletionList(
            is_incomplete=True,
            items=[
                types.CompletionItem(
                    label=first[:60],
                    kind=types.CompletionItemKind.Snippet,
                    detail=f"edgewise · confidence {score:.2f}"
                    if score is not None
                    else "edgewise",
                    documentation=summary(result.report),
                    text_edit=types.TextEdit(
                        range=types.Range(start=position, end=position), new_text=result.text
                    ),
                    insert_text_format=types.InsertTextFormat.PlainText,
                    filter_text=first,
                    sort_text="0",
                    command=accepted_command(result.report),
                )
            ],
        )

    code_actions.register(server)

    @server.command(CMD_APPLY_ACTION)
    async def apply_action(ls: EdgewiseServer, data: dict[str, Any]) -> bool:
        return await code_actions.apply_action(ls, data)

    @server.command(CMD_INLINE_ACCEPTED)
    def inline_accepted(ls: EdgewiseServer, report_id: str) -> bool:
        return show_report(ls, report_id)

    @server.command(CMD_REPORT_APPLIED)
    def report_applied(ls: EdgewiseServer, report_id: str) -> bool:
        return show_report(ls, report_id)

    @server.command(CMD_COST_REPORT)
    def cost_report(ls: EdgewiseServer, *args: Any) -> dict[str, Any]:
        """Totals of this session and of today (every session, from the report log)."""
        ledger = ls.engine.session.ledger
        return {
            "session": dict(ledger.session),
            "today": ledger.today(),
            "log": str(ledger.log.path) if ledger.log is not None else None,
        }

    @server.command(CMD_DOCUMENT_STATE)
    def document_state(ls: EdgewiseServer, uri: str) -> dict[str, Any] | None:
        """What the server holds for a document (text hash, syntax tree): for checking
        that it never drifts from the client."""
        if uri not in ls.workspace.text_documents:
            return None
        doc = ls.workspace.get_text_document(uri)
        parsed = ls.engine.documents.get(uri)  # as kept up to date by didChange, unsynced

        def digest(text: str) -> str:
            return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

        return {
            "version": doc.version,
            "sha256": digest(doc.source),
            "parsed_sha256": digest(parsed.text) if parsed else None,
            "tree": str(parsed.tree.root_node) if parsed and parsed.tree else None,
            "language": parsed.language.name if parsed and parsed.language else None,
        }

    @server.command(CMD_LAST_PROMPT)
    def last_prompt(ls: EdgewiseServer, *args: Any) -> dict[str, Any] | None:
        return ls.engine.last_prompt

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: EdgewiseServer, *args: Any) -> None:
        ls.engine.close()

    return server


def show_report(ls: EdgewiseServer, report_id: str) -> bool:
    report = ls.engine.session.reports.get(str(report_id))
    if report is None:
        return False
    ls.book.add(report["uri"], report_diagnostics(report))
    ls.publish(report["uri"])
    return True
