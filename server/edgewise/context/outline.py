"""The outline of a file: its definitions, each with a signature ready for a prompt.

What counts as a definition, its name, the body to strip and a docstring to keep all
come from ``queries/<language>/definitions.scm``. This module only applies the generic
rules: a function inside a class is a method, anything inside a function is local (and
left out), a doc comment is the run of comment nodes right above a definition, and a
signature is the definition's text with its body replaced by the pattern's placeholder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node, Query

from edgewise.context.documents import ParsedDocument
from edgewise.context.query_table import Match, QueryTable, Row
from edgewise.context.text_lines import WORD

ONE_LINE_CHARS = 200  # a definition on one line this short is shown whole
MAX_SIGNATURE_LINES = 16  # longer headers / types are cut here
DOC_CHARS = 100
FUNCTIONS = ("function", "method")
CONTAINERS = ("class", "type")

_DOC_MARKERS = re.compile(r"^\s*(?:/\*\*?|\*/|\*|//[/!]?|#+|--|;+)?\s?")
_QUOTE = re.compile(r"^[rRuUbBfF]*(\"\"\"|'''|\"|')")


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: str  # function | method | class | type | constant | field
    container: str | None  # the class (or type) a method or field belongs to
    signature: str  # body stripped, first doc line kept, source indentation
    short: str  # the signature without its doc line
    open_text: str  # header and opening bracket, to show members under it
    close_text: str  # the closing bracket line ("" when the language has none)
    header_rows: int  # rows from the first line to the last line of the signature
    name_row: int  # rows from the first line to the name
    constructor: bool = False  # what a call of its class runs (shown along with the class)
    bases: tuple[str, ...] = ()  # names a class derives from (what `super` and `self` reach)


@dataclass
class _Found:
    node: Node
    name: Node
    kind: str
    body: Node | None
    doc: Node | None
    container: str | None
    placeholder: str
    index: int
    constructor: bool = False
    bases: tuple[str, ...] = ()


def _text(data: bytes, start: int, end: int) -> str:
    return data[start:end].decode("utf-8", "replace")


def _line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, offset) + 1


def _inside(node: Node, types: set[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in types:
            return True
        parent = parent.parent
    return False


def _node_text(data: bytes, node: Node) -> str:
    """The node's text, read from the document (``node.text`` is empty once the tree has
    been edited, as when the previous tree stands in for an unfinished re-parse)."""
    return _text(data, node.start_byte, node.end_byte)


def _collect(query: Query, matches: list[Match], data: bytes) -> list[_Found]:
    """One candidate per name node."""
    best: dict[int, _Found] = {}
    skip_cache: dict[int, set[str]] = {}
    for index, captures in matches:
        kind_node = next(
            ((k, n[0]) for k, n in captures.items() if k.startswith("definition.")), None
        )
        names = captures.get("name")
        if kind_node is None or not names:
            continue
        name = names[0]
        node = kind_node[1]
        previous = best.get(name.id)
        # the widest definition node wins (a decorator or `export` wrapper is visible to
        # a ranged query whenever what it wraps is), then the earlier pattern
        if previous is not None and (
            previous.node.end_byte - previous.node.start_byte,
            -previous.index,
        ) >= (node.end_byte - node.start_byte, -index):
            continue
        settings = query.pattern_settings(index)
        unless = skip_cache.get(index)
        if unless is None:
            unless = set(str(settings.get("unless-inside") or "").split())
            skip_cache[index] = unless
        if unless and _inside(node, unless):
            continue
        body = captures.get("body", [None])[0]
        doc = captures.get("doc", [None])[0]
        container = captures.get("container", [None])[0]
        best[name.id] = _Found(
            node=node,
            name=name,
            kind=kind_node[0].split(".", 1)[1],
            body=body,
            doc=doc,
            container=_node_text(data, container) if container is not None else None,
            placeholder=str(settings.get("placeholder") or " …"),
            index=index,
            constructor="constructor" in settings,
            bases=_base_names(captures.get("bases", []), data),
        )
    return list(best.values())


def _nest(found: list[_Found], data: bytes) -> list[_Found]:
    """Methods and fields get their container; definitions inside functions are dropped."""
    found.sort(key=lambda f: (f.node.start_byte, -f.node.end_byte))
    stack: list[_Found] = []
    out: list[_Found] = []
    for item in found:
        while stack and stack[-1].node.end_byte <= item.node.start_byte:
            stack.pop()
        parent = stack[-1] if stack else None
        if parent is not None and parent.node.end_byte >= item.node.end_byte:
            if parent.kind in FUNCTIONS:
                continue  # local to a function
            if item.container is None:
                item.container = _node_text(data, parent.name) or None
                if item.kind == "function":
                    item.kind = "method"
                elif item.kind == "constant":
                    item.kind = "field"
        elif item.container is not None and item.kind == "function":
            item.kind = "method"
        out.append(item)
        stack.append(item)
    return out


def _base_names(nodes: list[Node], data: bytes) -> tuple[str, ...]:
    """Identifiers of a class's base list, without keyword arguments (``metaclass=``)."""
    names: list[str] = []
    for node in nodes:
        text = _node_text(data, node)
        for match in WORD.finditer(text):
            if not text[match.end() :].lstrip().startswith("=") and match.group() not in names:
                names.append(match.group())
    return tuple(names)


def doc_line(text: str) -> str:
    """The first line of a comment block or docstring that says something."""
    for raw in text.splitlines():
        line = _DOC_MARKERS.sub("", raw, count=1).strip()
        line = line.removesuffix("*/").strip()
        if line and any(ch.isalnum() for ch in line) and not line.startswith("@"):
            if len(line) > DOC_CHARS:
                cut = line.rfind(" ", 0, DOC_CHARS)
                line = line[: cut if cut > DOC_CHARS // 2 else DOC_CHARS] + " …"
            return line
    return ""


def _leading_comments(data: bytes, node: Node) -> Node | None:
    """The first node of the comment block right above ``node`` (attributes may sit between)."""
    anchor = node
    while (
        anchor.parent is not None
        and anchor.parent.parent is not None
        and anchor.parent.start_point.row == anchor.start_point.row
    ):
        anchor = anchor.parent
    top = anchor.start_point.row
    first: Node | None = None
    sibling = anchor.prev_named_sibling
    while sibling is not None and sibling.end_point.row >= top - 1:
        kind = sibling.type
        ends_above = sibling.end_point.row < top or (
            sibling.end_point.row == top and sibling.end_point.column == 0
        )
        if not ends_above:
            break
        if "comment" in kind:
            line_start = _line_start(data, sibling.start_byte)
            if data[line_start : sibling.start_byte].strip():
                break  # a trailing comment of the line above
            first = sibling
        elif not any(word in kind for word in ("attribute", "decorator", "annotation")):
            break
        top = sibling.start_point.row
        sibling = sibling.prev_named_sibling
    return first


def _docstring_line(data: bytes, doc: Node) -> tuple[str, str]:
    text = _text(data, doc.start_byte, doc.end_byte)
    match = _QUOTE.match(text)
    quote = match.group(1) if match else '"""'
    inner = text[match.end() if match else 0 :]
    inner = inner[: -len(quote)] if inner.endswith(quote) else inner
    line = doc_line(inner)
    if line.endswith(quote[0]):
        line += " "
    return line, quote


def _compact(header: str, comment: str) -> str:
    """A parameter list spread over lines, on one line (fewer tokens, same meaning).
    Headers with comments in them are left alone (a line comment would swallow the rest)."""
    if "\n" not in header or comment in header or "/*" in header:
        return header
    out: list[str] = []
    depth = 0
    index = 0
    while index < len(header):
        char = header[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        if char == "\n" and depth > 0:
            index += 1
            while index < len(header) and header[index] in " \t\r\n":
                index += 1
            before = out[-1] if out else ""
            after = header[index] if index < len(header) else ""
            if before not in "([{" and after not in ")]}":
                out.append(" ")
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _cut(text: str, indent: str, marker: str) -> tuple[str, int]:
    lines = text.split("\n")
    if len(lines) <= MAX_SIGNATURE_LINES:
        return text, len(lines) - 1
    kept = lines[: MAX_SIGNATURE_LINES - 1]
    return "\n".join([*kept, f"{indent}{marker} …"]), len(kept) - 1


def _text_start(data: bytes, node: Node) -> tuple[int, str]:
    """Where a definition's text starts, and its indentation. Wrappers that start on the
    same line and end with it (``export``, decorators on one line) are kept; the members
    of a one-line container (``struct P { int x; int y; }``) start at themselves."""
    anchor = node
    while (
        anchor.parent is not None
        and anchor.parent.parent is not None
        and anchor.parent.start_point.row == node.start_point.row
        and data[node.end_byte : anchor.parent.end_byte].strip() in (b"", b";")
    ):
        anchor = anchor.parent
    line_start = _line_start(data, anchor.start_byte)
    before = data[line_start : anchor.start_byte]
    indent_bytes = before[: len(before) - len(before.lstrip())]
    indent = indent_bytes.decode("utf-8", "replace")
    if before.strip():
        return node.start_byte, indent
    return line_start, indent


def render(doc: ParsedDocument, item: _Found, comment: str) -> tuple[Definition, int]:
    """The definition's outline entry and the byte where its doc comment starts."""
    data = doc.data
    node, body = item.node, item.body
    line_start, indent = _text_start(data, node)
    lead = node.start_byte
    doc_above = ""
    if item.doc is None:
        first = _leading_comments(data, node)
        if first is not None:
            lead = first.start_byte
            doc_above = doc_line(_text(data, first.start_byte, node.start_byte))
    start_row = node.start_point.row
    name_row = item.name.start_point.row - start_row
    open_text = close_text = ""
    if node.start_point.row == node.end_point.row and node.end_byte - line_start <= ONE_LINE_CHARS:
        signature, header_rows = _text(data, line_start, node.end_byte).rstrip(), 0
        short = signature
    elif body is None:
        signature, header_rows = _cut(
            _text(data, line_start, node.end_byte).rstrip(), indent, comment
        )
        short = signature
    else:
        header = _compact(_text(data, line_start, body.start_byte).rstrip(), comment)
        header_rows = body.start_point.row - start_row
        if header.count("\n") >= MAX_SIGNATURE_LINES:
            header, header_rows = _cut(header, indent, comment)
        signature = short = header + item.placeholder
        if item.doc is not None:
            line, quote = _docstring_line(data, item.doc)
            doc_indent = _text(data, _line_start(data, item.doc.start_byte), item.doc.start_byte)
            if line:
                signature = f"{header}\n{doc_indent}{quote}{line}{quote}"
        opener = body.child(0) if body.child_count else None
        if opener is not None and not opener.is_named:
            open_text = _text(data, line_start, opener.end_byte).rstrip()
            closer = body.child(body.child_count - 1)
            if closer is not None and not closer.is_named and closer.id != opener.id:
                close_text = indent + _text(data, closer.start_byte, closer.end_byte)
        else:
            open_text = header
    open_text = open_text or short.split("\n", 1)[0]
    if doc_above:
        signature = f"{indent}{comment} {doc_above}\n{signature}"
    definition = Definition(
        name=_node_text(doc.data, item.name),
        kind=item.kind,
        container=item.container,
        signature=signature,
        short=short,
        open_text=open_text,
        close_text=close_text,
        header_rows=header_rows,
        name_row=name_row,
        constructor=item.constructor
        or (item.container is not None and item.container == _node_text(doc.data, item.name)),
        bases=item.bases,
    )
    return definition, lead


def extract_definitions(
    doc: ParsedDocument, query: Query, matches: list[Match]
) -> list[Row[Definition]]:
    comment = doc.language.spec.comment if doc.language is not None else "#"
    rows: list[Row[Definition]] = []
    for item in _nest(_collect(query, matches, doc.data), doc.data):
        definition, lead = render(doc, item, comment)
        node = item.node
        rows.append(
            Row(
                node.start_byte,
                node.end_byte,
                lead,
                item.body.start_byte if item.body is not None else node.start_byte,
                item.name.start_byte,
                node.start_point.row,
                node.end_point.row,
                definition.name,
                definition,
            )
        )
    return rows


def outline(doc: ParsedDocument) -> list[Row[Definition]]:
    """The document's definitions (not local ones), in file order, kept incrementally."""
    if doc.tree is None or doc.language is None or doc.language.query("definitions") is None:
        return []
    table: QueryTable[Definition] = doc.table(
        "definitions", lambda: QueryTable("definitions", extract_definitions)
    )
    return table.rows
