"""`edgewise serve`: the LSP front door of the engine (pygls 2)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from edgewise import __version__
from edgewise.config import Settings, parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Completion, Engine
from edgewise.lsp.diagnostics import DiagnosticBook, report_diagnostics
from edgewise.lsp.workspace_roots import workspace_roots
from edgewise.model.backend import ModelError
from edgewise.report.builder import summary
from edgewise.report.ledger import totals

log = logging.getLogger(__name__)

CMD_REPORT_APPLIED = "edgewise.reportApplied"
CMD_INLINE_ACCEPTED = "edgewise.inlineAccepted"
CMD_COST_REPORT = "edgewise.costReport"
CMD_LAST_PROMPT = "edgewise.lastPrompt"
STATUS = "edgewise/status"
CODE_ACTION_KINDS = [types.CodeActionKind.RefactorRewrite, types.CodeActionKind.QuickFix]


class EdgewiseServer(LanguageServer):
    """All state lives here (and in its engine), never in module globals."""

    def __init__(self, settings: Settings | None = None, allow_download: bool = True) -> None:
        super().__init__(
            "edgewise", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.engine = Engine(settings, allow_download=allow_download)
        self.book = DiagnosticBook()
        self.resolve_edits = False
        self.document_changes = False
        self._told: set[str] = set()
        self._latest: dict[str, threading.Event] = {}
        self._busy = 0

    # --- messages to the user ----------------------------------------------------------

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """Show a message once per session (repeated errors do not spam the editor)."""
        if message in self._told:
            return
        self._told.add(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def model_error(self, exc: ModelError) -> None:
        self.tell(f"edgewise: {exc}", types.MessageType.Error)

    def tell_notes(self) -> None:
        while self.engine.host.notes:
            self.tell(self.engine.host.notes.pop(0))

    def apply_settings(self, raw: Any) -> None:
        result = parse_settings(raw)
        for problem in result.problems:
            self.tell(f"edgewise: {problem}", types.MessageType.Warning)
        self.engine.configure(result.settings)

    def status(self, state: str, report: dict[str, Any] | None = None) -> None:
        params: dict[str, Any] = {
            "state": state,
            "session": totals(self.engine.session.reports.values()),
            "hidden": self.engine.session.hidden,
        }
        if report is not None:
            params["last"] = {"id": report["id"], "summary": summary(report)}
        self.protocol.notify(STATUS, params)

    def publish(self, uri: str) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=self.book.get(uri))
        )

    # --- completions -------------------------------------------------------------------

    async def completion_at(
        self, uri: str, position: types.Position, action: str
    ) -> Completion | None:
        """Debounced, superseding, cancellable completion; None when there is nothing to show."""
        doc = self.workspace.get_text_document(uri)
        previous = self._latest.get(uri)
        if previous is not None:
            previous.set()  # a newer request supersedes it: stop between tokens
        cancel = threading.Event()
        self._latest[uri] = cancel
        try:
            if self.engine.settings.debounce_ms:
                await asyncio.sleep(self.engine.settings.debounce_ms / 1000.0)
            if cancel.is_set():
                return None
            self._busy += 1
            self.status("busy")
            completion = await self.engine.complete(
                uri,
                doc.source,
                Pos(position.line, position.character),
                doc.language_id,
                action,
                cancel,
            )
        except ModelError as exc:
            self.model_error(exc)
            return None
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            if self._latest.get(uri) is cancel:
                del self._latest[uri]
            if self._busy:
                self._busy -= 1
        self.tell_notes()
        self.status("idle" if not self._busy else "busy", completion.report)
        if cancel.is_set() or completion.hidden or not completion.text:
            return None
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
        ls.apply_settings(params.initialization_options)
        encoding = ls.workspace.position_encoding
        ls.engine.position_encoding = str(getattr(encoding, "value", encoding) or "utf-16")
        caps = params.capabilities
        resolve = caps.text_document and caps.text_document.code_action
        if resolve and resolve.resolve_support and "edit" in resolve.resolve_support.properties:
            ls.resolve_edits = True
        edit_caps = caps.workspace and caps.workspace.workspace_edit
        ls.document_changes = bool(edit_caps and edit_caps.document_changes)
        # context engine: imports are resolved inside the editor's workspace folders
        ls.engine.workspace_roots = workspace_roots(params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: EdgewiseServer, params: types.InitializedParams) -> None:
        try:
            await ls.engine.host.backend()
        except ModelError as exc:
            ls.model_error(exc)
        ls.tell_notes()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: EdgewiseServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if params.settings is not None:
            ls.apply_settings(params.settings)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: EdgewiseServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.engine.documents.open(item.uri, item.text, item.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: EdgewiseServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
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
        ls.engine.documents.close(params.text_document.uri)

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

    @server.command(CMD_INLINE_ACCEPTED)
    def inline_accepted(ls: EdgewiseServer, report_id: str) -> bool:
        return show_report(ls, report_id)

    @server.command(CMD_REPORT_APPLIED)
    def report_applied(ls: EdgewiseServer, report_id: str) -> bool:
        return show_report(ls, report_id)

    @server.command(CMD_COST_REPORT)
    def cost_report(ls: EdgewiseServer, *args: Any) -> dict[str, Any]:
        session = totals(ls.engine.session.reports.values())
        session["hidden"] = ls.engine.session.hidden
        return {"session": session}

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
