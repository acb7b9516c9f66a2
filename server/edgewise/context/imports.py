"""What a file imports (and re-exports), from ``queries/<language>/imports.scm``.

Each binding says which local name refers to what: a whole module (``import os``,
``import * as path from "path"``), one name of a module (``from .models import Item``),
a module's default export, or every name of a module (``from x import *``, ``#include``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Query

from edgewise.context.documents import ParsedDocument
from edgewise.context.query_table import Match, QueryTable, Row


@dataclass(frozen=True, slots=True)
class Binding:
    local: str  # the name used in this file ("" for wildcards)
    source: str  # the module as written ("./util", ".models", "os.path", "store.h")
    name: str | None  # the imported name; None for a whole module
    kind: str  # module | symbol | default | wildcard | export-default
    reexport: bool = False  # part of this module's own exports (`export … from`)


def _text(node: object) -> str:
    raw = getattr(node, "text", None) or b""
    return raw.decode("utf-8", "replace")


def extract_bindings(doc: ParsedDocument, query: Query, matches: list[Match]) -> list[Row[Binding]]:
    rows: list[Row[Binding]] = []
    for _, captures in matches:
        if "export.default" in captures:
            node = captures["export.default"][0]
            binding = Binding(_text(node), "", _text(node), "export-default")
            rows.append(_row(node, ("export-default", binding.local), binding))
            continue
        statements = captures.get("import") or captures.get("reexport")
        sources = captures.get("source")
        if not statements or not sources:
            continue
        statement, source = statements[0], sources[0]
        reexport = "reexport" in captures
        module = _text(source).strip("\"'<>")
        if "wildcard" in captures:
            binding = Binding("", module, None, "wildcard", reexport)
        elif "namespace" in captures:
            binding = Binding(_text(captures["namespace"][0]), module, None, "module", reexport)
        elif "default" in captures:
            binding = Binding(_text(captures["default"][0]), module, "default", "default", reexport)
        elif "name" in captures:
            name = _text(captures["name"][0])
            alias = captures.get("alias")
            local = _text(alias[0]) if alias else name
            binding = Binding(local, module, name, "symbol", reexport)
        else:
            # a module imported without a name is known by the last part of its path
            local = module.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
            binding = Binding(local, module, None, "module", reexport)
        key = (binding.kind, binding.local, binding.name, binding.source)
        rows.append(_row(statement, key, binding))
    return rows


def _row(node: Node, key: tuple[str | None, ...], binding: Binding) -> Row[Binding]:
    start = node.start_byte
    return Row(
        start,
        node.end_byte,
        start,
        start,
        start,
        node.start_point.row,
        node.end_point.row,
        key,
        binding,
    )


def bindings(doc: ParsedDocument) -> list[Row[Binding]]:
    """The document's imports and exports, in file order, kept incrementally."""
    if doc.tree is None or doc.language is None or doc.language.query("imports") is None:
        return []
    table: QueryTable[Binding] = doc.table(
        "imports", lambda: QueryTable("imports", extract_bindings)
    )
    return table.rows
