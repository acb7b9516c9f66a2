"""pygls' workspace with LSP's own idea of a line, kept current edit by edit.

pygls 2.1 splits document lines with ``str.splitlines``, which also breaks at form feed,
vertical tab, U+0085, U+2028 and others; the LSP counts lines only at ``\\n``, ``\\r\\n``
and ``\\r``. A form feed (common in older C and Python sources) then shifts every later
position and incremental edits corrupt the text. These classes split the LSP way.

pygls also re-splits the whole text on every access to ``lines`` and rebuilds the text
line by line for every incremental change: two passes over the file per keystroke. Here
the lines and their start offsets are kept in a :class:`TextLines` that follows each
change (re-splitting only the lines it touched), and a change is applied by slicing the
text at offsets read from it.

Positions are clamped as the LSP says, which pygls does not: a column past a line's end
is the end of the line's content, never between its ``\r`` and ``\n`` nor past them (pygls
put an insertion at column length + 1 of a CRLF line between the two, and clamped a
column past the end of a last line without a newline to one before its end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace
from pygls.workspace.position_codec import ServerTextPosition

from edgewise.context.positions import offset_of
from edgewise.context.text_lines import TextLines
from edgewise.lsp.pygls_hooks import HookedTextDocument, HookedWorkspace


class LineView(Sequence[str]):
    """The lines of one text as pygls sees them (no empty line after a final newline),
    read from a :class:`TextLines` without copying."""

    def __init__(self, table: TextLines) -> None:
        self._lines = table.lines
        self._count = len(table.lines) - (1 if table.lines[-1] == "" else 0)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return tuple(self._lines[: self._count][index])
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._lines[index]


@dataclass(frozen=True)
class AppliedChange:
    """One incremental change as applied: the characters ``start:old_end`` of the text
    before it were replaced by ``text``."""

    start: int
    old_end: int
    text: str

    @property
    def new_end(self) -> int:
        return self.start + len(self.text)


class LspTextDocument(HookedTextDocument):
    _table: TextLines | None = None
    # the changes applied since the last ``take_changes``, and the text before the first
    _applied: list[AppliedChange] | None = None
    _applied_base: str | None = None

    @property
    def source(self) -> str:
        """The text the client sent; "" for a document it never opened. (pygls reads such
        a document from disk: a URI naming a named pipe or /dev/zero would hang the
        server or fill its memory. The server reads only what the client opened.)"""
        return self.sent_text or ""

    def line_table(self) -> TextLines:
        """The line table of the current text (built once, then kept up to date)."""
        source = self.source
        table = self._table
        if table is None or table.text is not source:
            table = self._table = TextLines(source)
        return table

    @property
    def lines(self) -> Sequence[str]:
        return LineView(self.line_table())

    def apply_incremental(self, change: types.TextDocumentContentChangePartial) -> None:
        table = self.line_table()
        start = self.offset_in(table, change.range.start)
        at_start = change.range.end == change.range.start  # typing: one conversion
        end = start if at_start else max(self.offset_in(table, change.range.end), start)
        source, text = self.source, change.text
        new_source = source[:start] + text + source[end:]
        self.sent_text = new_source
        table.apply(new_source, start, end, start + len(text))
        if self._applied is None:
            self._applied, self._applied_base = [], source
        self._applied.append(AppliedChange(start, end, text))

    def take_changes(self) -> tuple[str | None, list[AppliedChange]]:
        """The incremental changes applied since the last call, in order, with the text
        they were applied to (None when there were none); forgotten once taken."""
        base, changes = self._applied_base, self._applied or []
        self._applied = self._applied_base = None
        return base, changes

    def offset_in(self, table: TextLines, position: types.Position) -> int:
        """Character offset of a client position, clamped as the LSP says: a column past
        a line's end is the end of its content (before ``\r\n``, ``\n`` or ``\r``), a
        line past the document's end is the document's end."""
        return offset_of(table, position.line, position.character, self.encoding_name)

    @property
    def encoding_name(self) -> str:
        encoding = self.position_codec.encoding
        return str(getattr(encoding, "value", encoding) or "utf-16")

    def offset_at_position(self, client_position: types.Position) -> int:
        return self.offset_in(self.line_table(), client_position)

    def offset_at_server_position(self, server_position: ServerTextPosition) -> int:
        row, col = server_position.line, server_position.character
        if row < 0:
            return super().offset_at_server_position(server_position)
        lines = self.lines
        return col + (self.line_table().start(row) if row < len(lines) else len(self.source))

    def server_position_at_offset(self, offset: int) -> ServerTextPosition:
        if not 0 <= offset < len(self.source):
            return super().server_position_at_offset(offset)
        table = self.line_table()
        row = table.line_of(offset)
        return ServerTextPosition(row, offset - table.start(row))


class LspWorkspace(HookedWorkspace):
    """Documents are synced incrementally (the server says so at initialize)."""

    SYNC_KIND = types.TextDocumentSyncKind.Incremental

    def new_text_document(
        self, uri: str, source: str | None, version: int | None, language_id: str | None
    ) -> TextDocument:
        return LspTextDocument(
            uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self.SYNC_KIND,
            position_codec=self.position_codec,
        )

    @classmethod
    def replacing(cls, old: Workspace) -> LspWorkspace:
        """The same workspace (root, folders, encoding), LSP-split; documents carried over."""
        new = cls(old.root_uri, cls.SYNC_KIND, list(old.folders.values()), old.position_encoding)
        for uri, doc in old.text_documents.items():
            new.put_text_document(_item(uri, doc))
        return new


def _item(uri: str, doc: TextDocument) -> Any:
    return types.TextDocumentItem(
        uri=uri, language_id=doc.language_id or "", version=doc.version or 0, text=doc.source
    )
