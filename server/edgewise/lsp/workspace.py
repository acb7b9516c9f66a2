"""pygls' workspace with LSP's own idea of a line.

pygls 2.1 splits document lines with ``str.splitlines``, which also breaks at form feed,
vertical tab, U+0085, U+2028 and others; the LSP counts lines only at ``\\n``, ``\\r\\n``
and ``\\r``. A form feed (common in older C and Python sources) then shifts every later
position and incremental edits corrupt the text. These classes split the LSP way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pygls.workspace import TextDocument, Workspace

from edgewise.context.text_lines import lsp_lines


class LspTextDocument(TextDocument):
    @property
    def lines(self) -> Sequence[str]:
        return tuple(lsp_lines(self.source))


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
    from lsprotocol import types

    return types.TextDocumentItem(
        uri=uri, language_id=doc.language_id or "", version=doc.version or 0, text=doc.source
    )
