"""Enclosing scopes and definitions, found with each language's query files."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, QueryCursor

from edgewise.context.documents import ParsedDocument


@dataclass(frozen=True)
class Scope:
    node: Node
    body: Node | None

    @property
    def header_bytes(self) -> tuple[int, int]:
        end = self.body.start_byte if self.body is not None else self.node.end_byte
        return self.node.start_byte, end


def enclosing_scopes(doc: ParsedDocument, byte_offset: int) -> list[Scope]:
    """Scopes containing the offset, outermost first."""
    if doc.tree is None or doc.language is None:
        return []
    query = doc.language.query("scopes")
    if query is None:
        return []
    cursor = QueryCursor(query)
    cursor.set_byte_range(max(byte_offset - 1, 0), byte_offset + 1)
    scopes: dict[int, Scope] = {}
    for _, captures in cursor.matches(doc.tree.root_node):
        for node in captures.get("scope", []):
            if node.start_byte < byte_offset <= node.end_byte:
                body = captures.get("body", [None])[0]
                scopes[node.id] = Scope(node, body)
    return sorted(scopes.values(), key=lambda s: (s.node.start_byte, -s.node.end_byte))


@dataclass(frozen=True)
class Definition:
    node: Node
    body: Node | None
    doc: Node | None


def definitions_at(doc: ParsedDocument, start_byte: int, end_byte: int) -> list[Definition]:
    """Documentable definitions (``docstring.scm``) that contain the given range, innermost first."""
    if doc.tree is None or doc.language is None:
        return []
    query = doc.language.query("docstring")
    if query is None:
        return []
    cursor = QueryCursor(query)
    cursor.set_byte_range(start_byte, max(start_byte, end_byte) + 1)
    found: dict[int, Definition] = {}
    for _, captures in cursor.matches(doc.tree.root_node):
        for node in captures.get("definition", []):
            if node.start_byte <= start_byte and end_byte <= node.end_byte:
                body = captures.get("body", [None])[0]
                docnode = captures.get("doc", [None])[0]
                found[node.id] = Definition(node, body, docnode)
    return sorted(found.values(), key=lambda d: d.node.end_byte - d.node.start_byte)
