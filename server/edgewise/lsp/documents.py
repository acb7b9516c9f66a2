"""Documents the editor opens, changes and closes (``textDocument/didOpen``,
``didChange``, ``didClose``). pygls' workspace (lsp/workspace.py) applies each change to
the text first; here the engine's document store is told each change exactly as it was
applied (no comparing of whole texts), and the edgewise diagnostics move with the edit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument

from edgewise.context.documents import DocumentStore
from edgewise.errors import BadInput
from edgewise.lsp.language_server import EdgewiseServer
from edgewise.lsp.workspace import LspTextDocument

log = logging.getLogger(__name__)


def did_open(ls: EdgewiseServer, params: types.DidOpenTextDocumentParams) -> None:
    item = params.text_document
    ls.engine.documents.open(item.uri, item.text, item.language_id)
    ls.parses.schedule_warm_up(item.uri)


def did_change(ls: EdgewiseServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    if unquote(uri) not in ls.workspace.text_documents:
        return  # never opened: nothing of it is known, nothing is read from disk
    doc = ls.workspace.get_text_document(uri)
    follow_changes(ls.engine.documents, uri, doc, params.content_changes)
    moved = False
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            moved = ls.book.edited(uri, change.range, change.text) or moved
        elif ls.book.get(uri):
            ls.book.clear(uri)
            moved = True
    if moved:
        ls.publish(uri)
    for report_id in ls.handed_out.arrived(uri, doc.source):  # a code action's edit is in
        ls.show_report(report_id)


def follow_changes(
    store: DocumentStore,
    uri: str,
    doc: TextDocument,
    changes: Sequence[types.TextDocumentContentChangeEvent],
) -> None:
    """Bring the store's document to ``doc``'s text, change by change as the workspace
    applied them: an incremental change is one :meth:`DocumentStore.edit` (its offsets
    already clamped as the LSP says, in characters of the text it was applied to), a
    whole-document change one :meth:`DocumentStore.sync`. Should the store's text not be
    the one the changes were applied to (a document the store never opened, or a change
    the store refuses), the rest is done by comparing the texts, so the store always
    ends at exactly ``doc``'s text."""
    base, applied = doc.take_changes() if isinstance(doc, LspTextDocument) else (None, [])
    parsed = store.get(uri)
    source = doc.source
    following = parsed is not None and (parsed.text is base or parsed.text == base)
    steps = iter(applied)
    for index, change in enumerate(changes):
        if parsed is None:
            break
        if isinstance(change, types.TextDocumentContentChangeWholeDocument):
            store.sync(uri, change.text, doc.language_id)
            following = True  # the later changes were applied to this text
            continue
        step = next(steps, None)
        if step is None or not following:
            following = False
            continue
        old = parsed.text
        last = index == len(changes) - 1
        # the last change's result is the workspace's text itself (the same object), and
        # the workspace's line table is at that text: the store shares it
        new = source if last else old[: step.start] + step.text + old[step.old_end :]
        lines = doc.line_table() if last and isinstance(doc, LspTextDocument) else None
        try:
            store.edit(uri, new, step.start, step.old_end, step.new_end, lines)
        except BadInput as exc:
            log.warning("%s; the text is compared instead", exc)
            following = False
    store.sync(uri, source, doc.language_id)  # nothing to do when every change was followed


def did_close(ls: EdgewiseServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.engine.close_document(params.text_document.uri)
    ls.handed_out.closed(params.text_document.uri)
