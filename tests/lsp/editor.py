"""What an editor does with the server's answers, written independently of the server's
own code: keep open buffers, apply WorkspaceEdits (positions in the negotiated encoding,
CreateFile on disk), send didChange, answer workspace/applyEdit."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from tests.lsp.conftest import wait_for_reports

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "actions"
EXISTING_TEST = (
    "from geometry import area\n\n\ndef test_area_of_a_square():\n    assert area(2, 2) == 4\n"
)
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def make_workspace(root: Path) -> Path:
    """The fixture project (Python, TypeScript, JavaScript) plus an existing tests/."""
    for item in FIXTURES.iterdir():
        target = root / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        else:
            shutil.copy(item, target)
    (root / "tests").mkdir()
    (root / "tests" / "test_existing.py").write_text(EXISTING_TEST, "utf-8")
    return root


def offset_of(text: str, position: types.Position, encoding: str) -> int:
    lines = LINE.findall(text) or [""]
    if position.line >= len(lines):
        return len(text)
    start = sum(len(line) for line in lines[: position.line])
    content = lines[position.line].rstrip("\r\n")
    units = 0
    for index, char in enumerate(content):
        if units >= position.character:
            return start + index
        if encoding == "utf-8":
            units += len(char.encode("utf-8"))
        elif encoding == "utf-16":
            units += len(char.encode("utf-16-le")) // 2
        else:
            units += 1
    return start + len(content)


def apply_text_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    spans = [
        (
            offset_of(text, e.range.start, encoding),
            offset_of(text, e.range.end, encoding),
            e.new_text,
        )
        for e in edits
    ]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def uri_path(uri: str) -> Path:
    assert uri.startswith("file://"), uri
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(uri).path))


class Editor:
    """Open buffers of one client, and the files on disk of its workspace."""

    def __init__(self, client: LanguageClient, root: Path, encoding: str) -> None:
        self.client = client
        self.root = root
        self.encoding = encoding
        self.buffers: dict[str, tuple[str, int]] = {}
        self.applied: list[types.WorkspaceEdit] = []
        self.requested: list[types.ApplyWorkspaceEditParams] = []
        # False: the person discards a change shown for confirmation (a preview)
        self.confirm = True
        self.capabilities: types.ServerCapabilities | None = None

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def _apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.requested.append(params)
            if not self.confirm and needs_confirmation(params.edit):
                return types.ApplyWorkspaceEditResult(applied=False)
            self.apply(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    def open(self, relative: str, language: str, text: str | None = None) -> str:
        uri = self.uri(relative)
        if text is None:
            text = (self.root / relative).read_text("utf-8")
        else:
            (self.root / relative).write_bytes(text.encode("utf-8"))
        self.buffers[uri] = (text, 1)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=text
                )
            )
        )
        return uri

    def text(self, uri: str) -> str:
        if uri in self.buffers:
            return self.buffers[uri][0]
        return uri_path(uri).read_bytes().decode("utf-8")

    def change(self, uri: str, edits: list[types.TextEdit]) -> None:
        """Edit an open buffer as a user or an applied edit would, and tell the server."""
        text, version = self.buffers[uri]
        # content changes apply one after another: send them from the bottom up
        ordered = sorted(
            edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
        )
        for edit in ordered:
            text = apply_text_edits(text, [edit], self.encoding)
        self.buffers[uri] = (text, version + 1)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
                content_changes=[
                    types.TextDocumentContentChangePartial(range=e.range, text=e.new_text)
                    for e in ordered
                ],
            )
        )

    def _edit_file(self, uri: str, edits: list[types.TextEdit]) -> None:
        if uri in self.buffers:
            self.change(uri, edits)
            return
        path = uri_path(path_uri := uri)
        assert path.exists(), f"edit of a file that does not exist: {path_uri}"
        text = path.read_bytes().decode("utf-8")
        path.write_bytes(apply_text_edits(text, edits, self.encoding).encode("utf-8"))

    def apply(self, edit: types.WorkspaceEdit) -> None:
        self.applied.append(edit)
        for change in edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                path = uri_path(change.uri)
                overwrite = change.options is not None and change.options.overwrite
                assert overwrite or not path.exists(), f"CreateFile over {path}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"")
            elif isinstance(change, types.TextDocumentEdit):
                uri = change.text_document.uri
                version = change.text_document.version
                if version is not None:
                    assert self.buffers[uri][1] == version, "edit for another version"
                self._edit_file(uri, text_edits(change))
            else:
                raise AssertionError(f"unexpected resource operation {change}")
        for uri, edits in (edit.changes or {}).items():
            self._edit_file(uri, list(edits))


def text_edits(change: types.TextDocumentEdit) -> list[types.TextEdit]:
    """The edits of a document change; an annotated edit is a text edit with a label."""
    return [
        types.TextEdit(range=e.range, new_text=e.new_text)
        for e in change.edits
        if isinstance(e, types.TextEdit | types.AnnotatedTextEdit)
    ]


def needs_confirmation(edit: types.WorkspaceEdit) -> bool:
    return any(a.needs_confirmation for a in (edit.change_annotations or {}).values())


def edits_by_uri(edit: types.WorkspaceEdit) -> dict[str, list[types.TextEdit]]:
    out: dict[str, list[types.TextEdit]] = {}
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit):
            out.setdefault(change.text_document.uri, []).extend(text_edits(change))
    for uri, edits in (edit.changes or {}).items():
        out.setdefault(uri, []).extend(edits)
    return out


def created(edit: types.WorkspaceEdit) -> list[str]:
    return [c.uri for c in edit.document_changes or [] if isinstance(c, types.CreateFile)]


def read_code_actions_like_an_editor(client: LanguageClient) -> None:
    """lsprotocol 2025.0.0 reads any code action that carries a ``command`` as a bare
    Command (it only checks that the key exists); editors tell them apart by the type
    of ``command`` (a string only in a Command). Read them the way editors do."""
    converter = client.protocol._converter

    def hook(obj: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007


async def start_editor(
    client: LanguageClient,
    profile: str,
    options: dict[str, Any],
    root: Path,
    capabilities: types.ClientCapabilities | None = None,
) -> Editor:
    client.status_updates = []  # type: ignore[attr-defined]
    read_code_actions_like_an_editor(client)

    @client.feature("edgewise/status")
    def _status(params: Any) -> None:
        client.status_updates.append(plain(params))  # type: ignore[attr-defined]

    wait_for_reports(client)

    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities or client_capabilities(profile),
            initialization_options=options,
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            root_uri=root.as_uri(),
        )
    )
    encoding = result.capabilities.position_encoding or "utf-16"
    editor = Editor(client, root, str(getattr(encoding, "value", encoding)))
    editor.capabilities = result.capabilities
    return editor


def changed_region(before: str, after: str) -> tuple[int, int]:
    """The character range of ``before`` that differs from ``after`` (found from their
    common prefix and suffix, whatever edits produced ``after``)."""
    prefix = 0
    limit = min(len(before), len(after))
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < limit - prefix
        and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]
    ):
        suffix += 1
    return prefix, len(before) - suffix


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def plain(value: Any) -> Any:
    """Notification params of custom methods arrive as named tuples: plain dicts/lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
