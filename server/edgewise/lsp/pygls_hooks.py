"""Every place edgewise reaches below pygls' public API, each with its reason.

pygls 2.1 offers no public way to do what these do. Nothing else in ``edgewise.lsp``
touches a private name of pygls (tests/lsp/test_lsp_layer.py checks that), and
tests/lsp/test_pygls_hooks.py holds one test per hook that fails when a pygls release
changes what the hook relies on: upgrading pygls means running that file first.

The hooks are of two kinds: base classes whose one private method pygls calls is
forwarded to a public method of ours, and functions that read or write one private
attribute.
"""

from __future__ import annotations

import inspect
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import _prepare_command_arguments, lsp_method
from pygls.workspace import TextDocument, Workspace

# --- the server: its stdio loop ----------------------------------------------------------


class HookedServer(LanguageServer):
    """``start_io`` runs :meth:`serve_stdio` instead of pygls' stdio loop."""

    def _start_io_async(
        self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None
    ) -> None:
        # Why: pygls' loop drops a frame of invalid JSON, or a request whose params do not
        # fit, without an answer, and loses sync after a wrong Content-Length (clients
        # then wait forever); its reader hands every message to a thread and back. The
        # only way to put another loop behind the public ``start_io`` is this method.
        self.serve_stdio(stdin, stdout)

    def serve_stdio(self, stdin: BinaryIO | None, stdout: BinaryIO | None) -> None:
        raise NotImplementedError


def stop_event_for(server: LanguageServer, event: Any) -> None:
    """Make pygls' ``shutdown()`` (called on ``exit`` and at the loop's end) set ``event``.

    Why: pygls stops its own loop through ``_stop_event``; a loop of ours is stopped by
    the same call only if it waits on that attribute."""
    server._stop_event = event


# --- the protocol: writing, pending requests, lifecycle, commands ------------------------


class HookedProtocol(LanguageServerProtocol):
    """Every message pygls sends goes through :meth:`write_message`; commands are awaited
    by their request's task."""

    def _send_data(self, data: Any) -> None:
        # Why: pygls writes ``json.dumps`` output as is: NaN and Infinity (not JSON; a
        # client's parser drops the connection on them) and, for an answer that cannot be
        # encoded, nothing at all. Every send (answers, notifications, requests to the
        # client) passes here and nowhere else.
        self.write_message(data)

    def write_message(self, data: Any) -> None:
        pygls_send(self, data)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]  # pygls runs coroutine handlers as well as its own generator ones
        self, params: types.ExecuteCommandParams
    ) -> Any:
        # Why: pygls 2.1 runs the command handler as a second, separately scheduled task;
        # ``$/cancelRequest`` then cancels only the outer future and the command (a model
        # run) goes on to the end. Here the request's own task awaits the handler, so
        # cancelling the request cancels the command (the model stops between tokens).
        # ``_prepare_command_arguments`` is pygls' own reading of the arguments (by the
        # handler's type hints), kept so that commands take the same arguments as before.
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams.of(
                ValueError(f"Command name {params.command!r} is not defined")
            )
        try:
            args, kwargs = _prepare_command_arguments(handler, params, self._converter)
        except Exception as exc:
            raise JsonRpcInvalidParams.of(exc) from exc
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def pygls_send(protocol: LanguageServerProtocol, data: Any) -> None:
    """pygls' own writing of ``data`` (for what :meth:`HookedProtocol.write_message` does
    not write itself: an empty message, or no writer yet)."""
    LanguageServerProtocol._send_data(protocol, data)


def serialize(protocol: LanguageServerProtocol, data: Any) -> Any:
    """pygls' ``json.dumps`` default: lsprotocol objects as plain data.

    Why: the converter pygls was built with knows how each lsprotocol type is written
    (field renames, omitted optionals); writing it again here would drift from it."""
    return protocol._serialize_message(data)


def framed(protocol: LanguageServerProtocol) -> bool:
    """Whether messages are written with their Content-Length header (stdio: yes).

    Why: ``set_writer(include_headers=...)`` stores this and nothing public reads it."""
    return bool(protocol._include_headers)


def pending_requests(protocol: LanguageServerProtocol) -> dict[Any, Any]:
    """The futures of our requests to the client that await a reply, by id.

    Why: a reply that cannot be read (nested too deep, or not fitting the protocol) is
    dropped by pygls, and the request would wait forever; it is failed through its
    future instead."""
    return protocol._request_futures


def shut_down(protocol: LanguageServerProtocol) -> bool:
    """Whether the client sent ``shutdown``.

    Why: after ``shutdown`` pygls drops requests with a log line and no answer; the spec
    asks for an InvalidRequest error, which the framing loop sends before pygls sees the
    request."""
    return bool(protocol._shutdown)


# --- the workspace: its documents --------------------------------------------------------


def replace_workspace(protocol: LanguageServerProtocol, workspace: Workspace) -> None:
    """Put ``workspace`` where pygls created its own at ``initialize``.

    Why: pygls builds its ``Workspace`` inside its initialize handler with no factory to
    override; ours splits lines the LSP way (see lsp/workspace.py)."""
    protocol._workspace = workspace


class HookedWorkspace(Workspace):
    """Its text documents are made by :meth:`new_text_document`."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        # Why: the one place pygls makes a document for didOpen; no public factory.
        return self.new_text_document(doc_uri, source, version, language_id)

    def new_text_document(
        self, uri: str, source: str | None, version: int | None, language_id: str | None
    ) -> TextDocument:
        raise NotImplementedError


class HookedTextDocument(TextDocument):
    """pygls applies an incremental change through :meth:`apply_incremental`; the text the
    client sent is :attr:`sent_text` (never the file on disk)."""

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        # Why: pygls splits lines with ``str.splitlines`` (form feed, U+2028 and others
        # break a line for it, not for the LSP) and rebuilds the whole text per change.
        # ``apply_change`` (public) picks this method for an incremental change.
        self.apply_incremental(change)

    def apply_incremental(self, change: types.TextDocumentContentChangePartial) -> None:
        raise NotImplementedError

    @property
    def sent_text(self) -> str | None:
        """The text the client sent, None for a document it never opened.

        Why: pygls' public ``source`` reads a document without text from disk (a URI
        naming a named pipe or /dev/zero would hang the server or fill its memory); the
        text itself is stored only in ``_source``."""
        return self._source

    @sent_text.setter
    def sent_text(self, text: str) -> None:
        self._source = text
