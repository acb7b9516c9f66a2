"""The stretches of a document actions work on: a definition, a selection, whole lines."""

from __future__ import annotations

from tree_sitter import Node

from edgewise.actions.base import ActionContext, Target, char_offset, line_end, line_start
from edgewise.actions.codeblock import indent_unit
from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import utf8_span
from edgewise.context.scopes import definitions_at

FUNCTION_TYPES = {
    "function_definition",
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "function_expression",
    "arrow_function",
    "function",
}
CLASS_TYPES = {"class_definition", "class_declaration", "class"}


def node_text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text else ""


def kind_of(node: Node) -> str:
    if node.type in CLASS_TYPES or "class" in node.type:
        return "class"
    if node.type == "method_definition" or _in_class(node):
        return "method"
    return "function"


def _in_class(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in CLASS_TYPES or parent.type == "class_body":
            return True
        if parent.type in FUNCTION_TYPES:
            return False
        parent = parent.parent
    return False


def name_of(node: Node) -> str:
    name = node.child_by_field_name("name")
    if name is None and node.type == "lexical_declaration":
        declarator = node.named_children[0] if node.named_children else None
        name = declarator.child_by_field_name("name") if declarator is not None else None
    return node_text(name) if name is not None else ""


def innermost_definition(
    doc: ParsedDocument, start_byte: int, end_byte: int, classes: bool = True
) -> Node | None:
    """The innermost function (or class) around the range, from ``docstring.scm``."""
    for definition in definitions_at(doc, start_byte, end_byte):
        if classes or kind_of(definition.node) != "class":
            return definition.node
    return None


def function_node(definition: Node) -> Node:
    """The function node inside a definition (``const f = () => ...`` holds an arrow)."""
    if definition.type == "lexical_declaration":
        for declarator in definition.named_children:
            value = declarator.child_by_field_name("value")
            if value is not None and value.type in FUNCTION_TYPES:
                return value
    return definition


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """Character range of the whole lines from ``start`` to ``end``, line breaks of the
    last line excluded (a range ending at column 0 stops at the line before)."""
    if end > start and line_start(text, end) == end:
        end -= 1
        if end > 0 and text[end - 1] == "\r":
            end -= 1
    return line_start(text, start), line_end(text, max(start, end))


def lines_target(
    ctx: ActionContext, definitions: bool = True, current_line: bool = False
) -> Target | None:
    """A non-empty selection (as whole lines), else the innermost definition (whole
    lines), else the current line when ``current_line`` is allowed."""
    doc = ctx.doc
    text, data = doc.text, doc.data
    start = char_offset(data, ctx.start_byte)
    end = char_offset(data, ctx.end_byte)
    kind = "selection"
    if end <= start or not text[start:end].strip():
        node = innermost_definition(doc, ctx.start_byte, ctx.end_byte) if definitions else None
        if node is not None:
            start, end = char_offset(data, node.start_byte), char_offset(data, node.end_byte)
            kind = kind_of(node)
        elif current_line:
            kind = "line"
        else:
            return None
    a, b = whole_lines(text, start, end)
    code = text[a:b]
    if not code.strip():
        return None
    a_byte, b_byte = utf8_span(text, a, b)
    return Target(a_byte, b_byte, code, kind)


def file_indent_unit(text: str) -> str:
    return indent_unit(text.replace("\r\n", "\n"))


def selected_lines(doc: ParsedDocument, start_byte: int, end_byte: int) -> tuple[int, int]:
    """A selection of whole lines (from column 0, as ``V`` in Neovim or a line-wise
    selection in VS Code) means the definitions in them: the range is narrowed to the
    lines' code (no indentation before it, no line break after it, decorators above a
    definition skipped), so that the finders see the definition those lines hold, as
    with the cursor on it. Any other range is kept as it is."""
    data = doc.data
    if end_byte <= start_byte:
        return start_byte, end_byte
    first_line = data.rfind(b"\n", 0, start_byte) + 1
    line_end = data.find(b"\n", end_byte)
    rest = data[end_byte : len(data) if line_end < 0 else line_end]
    at_line_end = data[end_byte - 1 : end_byte] == b"\n" or not rest.strip()
    if data[first_line:start_byte].strip() or not at_line_end:
        return start_byte, end_byte
    selected = data[start_byte:end_byte]
    a = start_byte + len(selected) - len(selected.lstrip())
    b = start_byte + len(selected.rstrip())
    while a < b and data[a : a + 1] == b"@":  # decorators: the definition is below them
        below = data.find(b"\n", a, b)
        if below < 0:
            return start_byte, end_byte
        line = data[below + 1 : b]
        a = below + 1 + len(line) - len(line.lstrip())
    if a >= b:
        return start_byte, end_byte
    return a, b
