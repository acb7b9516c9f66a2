"""Single line or several? Read from the syntax tree at the cursor.

After the ``:`` of ``def f():`` or the ``{`` of a block a whole body is wanted; after the
``:`` of a dict entry, a lambda, a slice or an annotation, or inside a comment or a
string, only the rest of the line.
"""

from __future__ import annotations

from typing import Any

from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import utf8_len

# Statements whose ':' opens an indented block (tree-sitter-python node types).
BLOCK_STATEMENTS = frozenset(
    {
        "function_definition",
        "class_definition",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "with_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "match_statement",
        "case_clause",
    }
)
# Keywords that start such a statement, as seen inside an ERROR node of incomplete code.
BLOCK_KEYWORDS = frozenset(
    {"def", "class", "if", "elif", "else", "for", "while", "with", "try", "except", "finally"}
)
TEXT_NODES = ("comment", "string", "string_content", "string_fragment", "template_string")


def node_before(doc: ParsedDocument, line: int, line_prefix: str) -> Any | None:
    """The smallest syntax node ending at the last non-blank character before the cursor
    (None without a tree or on a blank line prefix)."""
    if doc.tree is None:
        return None
    stripped = line_prefix.rstrip()
    if not stripped:
        return None
    column = utf8_len(stripped)
    return doc.tree.root_node.descendant_for_point_range((line, column - 1), (line, column))


def opens_block(node: Any) -> bool | None:
    """True when the token before the cursor opens a multi-line body, False when it is
    known not to (text or an inline construct), None when the tree does not say."""
    probe = node
    while probe is not None:
        if probe.type in TEXT_NODES:
            return False
        probe = probe.parent
    parent = node.parent
    if node.type == ":":
        if parent is None:
            return None
        if parent.type in BLOCK_STATEMENTS:
            return True
        if parent.type == "ERROR":  # incomplete statement: look for its keyword
            keyword = next(
                (c.type for c in parent.children if c.start_point[0] == node.start_point[0]),
                None,
            )
            return keyword in BLOCK_KEYWORDS
        return False  # dict entry, lambda, slice, annotation, ...
    return None
