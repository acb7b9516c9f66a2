"""Between the engine's edits and LSP: WorkspaceEdits in the shape each client accepts,
and the workspace as the actions see it (its folders, open buffers before disk)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from edgewise import safe_read
from edgewise.actions.base import FileText, Workspace
from edgewise.actions.edits import FileEdit
from edgewise.lsp.language_server import EdgewiseServer

MAX_READ_BYTES = 2 * 1024 * 1024
APPLY_WAIT_SECONDS = 2.0
PREVIEW_ANNOTATION = "edgewise.preview"  # the change annotation of an edit shown before applied


def workspace_view(ls: EdgewiseServer) -> Workspace:
    """The workspace folders (the root when the client sent no folders) and a reader
    that prefers the editor's open buffer to the file on disk."""

    def read(path: Path) -> FileText | None:
        uri = from_fs_path(str(path)) or path.as_uri()
        for candidate in (uri, path.as_uri()):
            doc = ls.workspace.text_documents.get(candidate)
            if doc is not None:
                return FileText(path, candidate, doc.source, doc.version)
        try:
            return FileText(path, path.as_uri(), safe_read.read_text(path, MAX_READ_BYTES), None)
        except (OSError, UnicodeDecodeError):
            return None

    return Workspace(tuple(ls.roots.paths), read)


def _capabilities(ls: EdgewiseServer) -> tuple[bool, bool]:
    """(documentChanges, may create files) of the client's workspace edits."""
    caps = ls.client_capabilities
    edit = caps.workspace.workspace_edit if caps and caps.workspace else None
    document_changes = bool(edit and edit.document_changes)
    operations = (
        {str(getattr(o, "value", o)) for o in (edit.resource_operations or [])} if edit else set()
    )
    return document_changes, "create" in operations


def can_preview(ls: EdgewiseServer) -> bool:
    """The client shows annotated edits that need confirmation before applying them
    (``changeAnnotationSupport``; annotated edits travel in ``documentChanges``)."""
    caps = ls.client_capabilities
    edit = caps.workspace.workspace_edit if caps and caps.workspace else None
    return bool(edit and edit.document_changes and edit.change_annotation_support is not None)


def _text_edits(
    edit: FileEdit, encoding: str, annotation: str | None = None
) -> list[types.TextEdit | types.AnnotatedTextEdit]:
    out: list[types.TextEdit | types.AnnotatedTextEdit] = []
    for start, end, text in edit.positions(encoding):
        rng = types.Range(
            start=types.Position(start.line, start.character),
            end=types.Position(end.line, end.character),
        )
        if annotation is None:
            out.append(types.TextEdit(range=rng, new_text=text))
        else:
            out.append(types.AnnotatedTextEdit(range=rng, new_text=text, annotation_id=annotation))
    return out


def _plain_edits(edit: FileEdit, encoding: str) -> list[types.TextEdit]:
    return [e for e in _text_edits(edit, encoding) if isinstance(e, types.TextEdit)]


def workspace_edit(
    ls: EdgewiseServer, files: list[FileEdit], preview: str | None = None
) -> types.WorkspaceEdit | str:
    """The WorkspaceEdit for the files, or why this client cannot apply it.

    A new file needs a CreateFile resource operation, which lives in documentChanges:
    it is sent when the client declares it can create files (Neovim declares that
    without declaring documentChanges, and applies them).

    ``preview`` (a label): when the client supports change annotations, every edit
    carries the annotation ``edgewise.preview`` that needs confirmation, so the editor
    shows the change and applies it only when the person accepts it."""
    encoding = ls.engine.position_encoding
    for file in files:
        refusal = ls.guard.refusal(file.uri, ls.is_open(file.uri))
        if refusal is not None:
            name = file.uri.rstrip("/").rsplit("/", 1)[-1]
            return f"edgewise will not edit {name}: {refusal}"
    document_changes, can_create = _capabilities(ls)
    creates = any(f.create for f in files)
    if creates and not can_create:
        return "the editor cannot create files through LSP (no 'create' resource operation)"
    annotation = PREVIEW_ANNOTATION if preview is not None and can_preview(ls) else None
    if document_changes or creates:
        changes: list[
            types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
        ] = []
        for file in files:
            if file.create:
                changes.append(
                    types.CreateFile(
                        uri=file.uri,
                        options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                    )
                )
            changes.append(
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=file.uri, version=None if file.create else file.version
                    ),
                    edits=_text_edits(file, encoding, annotation),
                )
            )
        if annotation is None or preview is None:
            return types.WorkspaceEdit(document_changes=changes)
        note = types.ChangeAnnotation(label=preview, needs_confirmation=True)
        return types.WorkspaceEdit(document_changes=changes, change_annotations={annotation: note})
    return types.WorkspaceEdit(changes={f.uri: _plain_edits(f, encoding) for f in files})


async def wait_for_text(
    ls: EdgewiseServer, uri: str, text: str | None, since_version: int | None = None
) -> None:
    """Wait until the editor's change (didChange) has brought the document to ``text``
    (or, when None, past ``since_version``), so that the report's diagnostics are placed
    in the edited document rather than moved by its own edit."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + APPLY_WAIT_SECONDS
    while loop.time() < deadline:
        doc = ls.workspace.text_documents.get(uri)
        if doc is None:
            return
        if (doc.source == text) if text is not None else (doc.version != since_version):
            return
        await asyncio.sleep(0.02)
