"""One test per hook into pygls' private API (edgewise/lsp/pygls_hooks.py): each fails
when a pygls release stops calling, or renames, what the hook relies on. Run this file
first when upgrading pygls."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument, Workspace

from edgewise.lsp import pygls_hooks
from edgewise.lsp.pygls_hooks import (
    HookedProtocol,
    HookedServer,
    HookedTextDocument,
    HookedWorkspace,
)


class Written:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass


class RecordingProtocol(HookedProtocol):
    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.messages: list[Any] = []

    def write_message(self, data: Any) -> None:
        self.messages.append(data)


def server_with(protocol_cls: type = RecordingProtocol) -> LanguageServer:
    return LanguageServer("hooks", "0", protocol_cls=protocol_cls)


def test_start_io_runs_serve_stdio() -> None:
    calls: list[tuple[Any, Any]] = []

    class Server(HookedServer):
        def serve_stdio(self, stdin: Any, stdout: Any) -> None:
            calls.append((stdin, stdout))

    stdin, stdout = io.BytesIO(), io.BytesIO()
    Server("hooks", "0").start_io(stdin, stdout)
    assert calls == [(stdin, stdout)]


def test_shutdown_sets_the_stop_event_of_our_loop() -> None:
    server = server_with()
    stop = threading.Event()
    pygls_hooks.stop_event_for(server, stop)
    server.shutdown()
    assert stop.is_set()


def test_every_message_pygls_sends_goes_through_write_message() -> None:
    protocol = server_with().protocol
    protocol.notify("edgewise/status", {"state": "idle"})
    protocol.send_request("workspace/applyEdit", None, msg_id="r1")
    assert [getattr(m, "method", None) for m in protocol.messages] == [
        "edgewise/status",
        "workspace/applyEdit",
    ]


def test_pygls_send_writes_a_framed_message() -> None:
    protocol = server_with(HookedProtocol).protocol
    writer = Written()
    protocol.set_writer(writer)
    pygls_hooks.pygls_send(protocol, {"jsonrpc": "2.0", "method": "m"})
    assert writer.data.startswith(b"Content-Length: ")
    assert writer.data.endswith(b'{"jsonrpc": "2.0", "method": "m"}')


def test_serialize_writes_lsprotocol_objects_as_plain_data() -> None:
    protocol = server_with().protocol
    position = types.Position(line=1, character=2)
    assert pygls_hooks.serialize(protocol, position) == {"line": 1, "character": 2}
    assert pygls_hooks.serialize(protocol, types.MessageType.Warning) == 2


def test_framed_follows_set_writer() -> None:
    protocol = server_with().protocol
    protocol.set_writer(Written(), include_headers=False)
    assert pygls_hooks.framed(protocol) is False
    protocol.set_writer(Written())
    assert pygls_hooks.framed(protocol) is True


def test_pending_requests_hold_our_requests_until_answered() -> None:
    protocol = server_with().protocol
    future = protocol.send_request("workspace/applyEdit", None, msg_id="r7")
    assert pygls_hooks.pending_requests(protocol)["r7"] is future


def test_shut_down_turns_true_at_shutdown() -> None:
    protocol = server_with().protocol
    assert pygls_hooks.shut_down(protocol) is False
    list(protocol.lsp_shutdown())
    assert pygls_hooks.shut_down(protocol) is True


def test_execute_command_is_ours_and_reads_arguments_by_type_hints() -> None:
    server = server_with()
    protocol = server.protocol
    builtin = protocol.fm.builtin_features[types.WORKSPACE_EXECUTE_COMMAND]
    assert builtin.__func__ is HookedProtocol.lsp_workspace__execute_command

    @server.command("double")
    def double(ls: LanguageServer, value: int) -> int:
        return value * 2

    params = types.ExecuteCommandParams(command="double", arguments=[21])
    assert asyncio.run(protocol.lsp_workspace__execute_command(params)) == 42


def test_cancelling_the_request_cancels_the_command() -> None:
    server = server_with()
    started, cancelled = asyncio.Event(), []

    @server.command("wait")
    async def wait(ls: LanguageServer, *args: Any) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def run() -> None:
        params = types.ExecuteCommandParams(command="wait", arguments=[])
        task = asyncio.ensure_future(server.protocol.lsp_workspace__execute_command(params))
        await asyncio.wait_for(started.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert cancelled == [True]


def test_replace_workspace_is_the_servers_workspace() -> None:
    server = server_with()
    workspace = Workspace(None)
    pygls_hooks.replace_workspace(server.protocol, workspace)
    assert server.workspace is workspace


class Document(HookedTextDocument):
    changes: list[Any]

    def apply_incremental(self, change: types.TextDocumentContentChangePartial) -> None:
        self.changes = [*getattr(self, "changes", []), change]
        self.sent_text = "changed"


class Documents(HookedWorkspace):
    def new_text_document(
        self, uri: str, source: str | None, version: int | None, language_id: str | None
    ) -> TextDocument:
        return Document(uri, source=source, version=version, language_id=language_id)


def test_open_documents_are_made_by_new_text_document() -> None:
    workspace = Documents(None)
    item = types.TextDocumentItem(uri="file:///a.py", language_id="python", version=1, text="x")
    workspace.put_text_document(item)
    doc = workspace.get_text_document("file:///a.py")
    assert isinstance(doc, Document) and doc.source == "x" and doc.version == 1


def test_incremental_changes_go_through_apply_incremental() -> None:
    workspace = Documents(None)
    workspace.put_text_document(
        types.TextDocumentItem(uri="file:///a.py", language_id="python", version=1, text="x")
    )
    change = types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(0, 0), end=types.Position(0, 1)), text="y"
    )
    workspace.update_text_document(
        types.VersionedTextDocumentIdentifier(uri="file:///a.py", version=2), change
    )
    doc = workspace.get_text_document("file:///a.py")
    assert isinstance(doc, Document) and doc.changes == [change]
    assert doc.source == "changed" and doc.version == 2


def test_sent_text_is_what_pygls_reads_as_the_source(tmp_path: Any) -> None:
    on_disk = tmp_path / "never_opened.py"
    on_disk.write_text("from disk")
    doc = Document(on_disk.as_uri())
    assert doc.sent_text is None  # pygls' ``source`` would read the file
    doc.sent_text = "sent"
    assert TextDocument.source.fget(doc) == "sent"  # type: ignore[attr-defined]
