"""Documents the editor opens, changes and closes (``textDocument/didOpen``,
``didChange``, ``didClose``). pygls' workspace (lsp/workspace.py) applies each change to
the text first; here the engine's parse follows it and the edgewise diagnostics move
with the edit."""

from __future__ import annotations

from urllib.parse import unquote

from lsprotocol import types

from edgewise.lsp.language_server import EdgewiseServer


def did_open(ls: EdgewiseServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    ls.engine.documents.open(item.uri, item.text, item.language_id)
    ls.parses.schedule_warm_up(item.uri)


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


def did_close(ls: EdgewiseServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.engine.close_document(params.text_document.uri)
