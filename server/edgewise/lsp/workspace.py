"""pygls' workspace with LSP's own idea of a line, kept current edit by edit.

pygls 2.1 splits document lines with ``str.splitlines``, which also breaks at form feed,
vertical tab, U+0085, U+2028 and others; the LSP counts lines only at ``\\n``, ``\\r\\n``
and ``\\r``. A form feed (common in older C and Python sources) then shifts every later
position and incremental edits corrupt the text. These classes split the LSP way.

pygls also re-splits the whole text on every access to ``lines`` and rebuilds the text
line by line for every incremental change: two passes over the file per keystroke. Here
the lines and their start offsets are kept in a :class:`TextLines` that follows each
change (re-splitting only the lines it touched), and a change is applied by slicing the
text at offsets read from it. The result is exactly what pygls' own algorithm gives,
including its clamping of positions past a line's or the document's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace
from pygls.workspace.position_codec import ServerTextPosition

from edgewise.context.text_lines import TextLines


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


class LspTextDocument(TextDocument):
    _table: TextLines | None = None

    @property
    def source(self) -> str:
        """The text the client sent; "" for a document it never opened. (pygls reads such
        a document from disk: a URI naming a named pipe or /dev/zero would hang the
        server or fill its memory. The server reads only what the client opened.)"""
        return self._source or ""

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

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        table = self.line_table()
        lines = LineView(table)
        rng = self._position_codec.range_from_client_units(lines, change.range)
        start_line, start_col = rng.start.line, rng.start.character
        end_line, end_col = rng.end.line, rng.end.character
        if min(start_line, start_col, end_line, end_col) < 0 or start_line > len(lines):
            super()._apply_incremental_change(change)  # nothing a client sends; pygls' way
            return
        source, text = self.source, change.text
        if start_line == len(lines):  # an empty document: pygls appends
            self._source = source + text
            return
        if end_line < start_line:  # pygls copies every line unchanged then
            return
        # pygls writes line[:start_col] + text + line[end_col:] (slices clamp to the line)
        start = table.start(start_line) + min(start_col, len(lines[start_line]))
        end = table.start(end_line) + min(end_col, len(lines[end_line]))
        new_source = source[:start] + text + source[end:]
        self._source = new_source
        if start <= end:
            table.apply(new_source, start, end, start + len(text))
        else:  # an end before the start on the same line: pygls repeats text; split anew
            self._table = None

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


class LspWorkspace(Workspace):
    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self._position_codec,
        )

    @classmethod
    def replacing(cls, old: Workspace) -> LspWorkspace:
        """The same workspace (root, folders, encoding), LSP-split; documents carried over."""
        new = cls(old.root_uri, old._sync_kind, list(old.folders.values()), old.position_encoding)
        for uri, doc in old.text_documents.items():
            new.put_text_document(_item(uri, doc))
        return new


def _item(uri: str, doc: TextDocument) -> Any:
    return types.TextDocumentItem(
        uri=uri, language_id=doc.language_id or "", version=doc.version or 0, text=doc.source
    )
