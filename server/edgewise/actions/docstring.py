"""Add docstring (Python) / JSDoc comment (JavaScript, TypeScript) to a function, a
class or a module."""

from __future__ import annotations

import re
import textwrap

from tree_sitter import Node

from edgewise.actions.base import (
    ActionContext,
    Hole,
    Infill,
    Plan,
    Rendered,
    RenderError,
    Target,
    char_offset,
    plain_lines,
)
from edgewise.actions.regions import kind_of, name_of, node_text
from edgewise.actions.safe_fill import jsdoc_comment_problem, python_docstring_problem
from edgewise.context.documents import ParsedDocument
from edgewise.context.scopes import definitions_at
from edgewise.model.stops import MarkerStop

MAX_CHARS = 400
WIDTH = 72
MODULE_CHARS = 3000


def find_target(ctx: ActionContext) -> Target | None:
    """The innermost function or class around the range that has no documentation yet."""
    doc = ctx.doc
    for definition in definitions_at(doc, ctx.start_byte, ctx.end_byte):
        node = definition.node
        # `export function f` keeps its JSDoc above `export`, not above `function`
        outer = node.parent if node.parent and node.parent.type == "export_statement" else node
        if definition.doc is not None or _has_jsdoc(doc, outer.start_byte):
            continue
        kind = "class" if kind_of(node) == "class" else "function"
        code = as_written(doc, node.start_byte, node_text(node))
        return Target(node.start_byte, node.end_byte, code, kind, name=name_of(node))
    return None


def as_written(doc: ParsedDocument, start_byte: int, code: str) -> str:
    """A definition's code as it reads on its own: a method's first line lost its
    indentation to the node boundary, so it is put back and the whole dedented (small
    models copy a ragged indentation into their answer)."""
    data = doc.data
    lead = data[data.rfind(b"\n", 0, start_byte) + 1 : start_byte].decode("utf-8", "replace")
    return code if lead.strip() else textwrap.dedent(lead + code)


def _has_jsdoc(doc: ParsedDocument, start_byte: int) -> bool:
    if doc.language is None or doc.language.name == "python":
        return False
    data = doc.data[:start_byte].rstrip()
    if not data.endswith(b"*/"):
        return False
    opening = data.rfind(b"/*")  # the comment that ends right above the definition
    return data[opening : opening + 3] == b"/**" and opening + 3 < len(data) - 1


def clean(text: str) -> str:
    """Model text as one safe sentence-ish paragraph: no fences, quotes or markers."""
    text = text.replace("\r", "").replace("\ufffd", "")
    text = re.sub(r"```.*?(```|$)", " ", text, flags=re.DOTALL)  # echoed code blocks
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text)
    text = text.replace('"""', "'").replace("'''", "'").replace("\\", "/")
    text = text.replace("*/", "* /").replace("/**", "/ **")
    text = " ".join(text.split())
    return text[:MAX_CHARS].strip("\"'` ")  # no quote next to the closing quotes


def _node_at(doc: ParsedDocument, target: Target) -> Node | None:
    if doc.tree is None:
        return None
    node = doc.tree.root_node.descendant_for_byte_range(target.start_byte, target.end_byte)
    while node is not None and (node.start_byte, node.end_byte) != (
        target.start_byte,
        target.end_byte,
    ):
        node = node.parent
    return node


def python_docstring(sentence: str, indent: str) -> str:
    one = f'{indent}"""{sentence}"""\n'
    if len(one) <= WIDTH + 16:
        return _checked(one, python_docstring_problem(one))
    lines = textwrap.wrap(sentence, WIDTH - len(indent)) or [""]
    body_text = "\n".join(indent + line for line in lines[1:])
    block = f'{indent}"""{lines[0]}\n{body_text}\n{indent}"""\n'
    return _checked(block, python_docstring_problem(block))


def jsdoc(sentence: str, indent: str, tag: str = "") -> str:
    lines = textwrap.wrap(tag + sentence, WIDTH - len(indent)) or [""]
    middle = "".join(f"{indent} * {line}\n" for line in lines)
    block = f"{indent}/**\n{middle}{indent} */\n"
    return _checked(block, jsdoc_comment_problem(block))


def _checked(block: str, problem: str | None) -> str:
    """The documentation block, unless the model's text would make it more than one
    string literal or comment (then the reply is refused)."""
    if problem is not None:
        raise RenderError(f"the model's text cannot be written as documentation: {problem}")
    return block


def answer_start(target: Target) -> str:
    """The reply starts as prose ("This function"): small chat models (SmolLM2) asked
    about code otherwise echo it in a fenced block first, which clean() drops, leaving
    nothing. The first paragraph is the answer."""
    return f"This {target.kind}"


def plan_insert(ctx: ActionContext, target: Target) -> Plan | None:
    doc = ctx.doc
    if doc.tree is None or doc.language is None:
        return None
    node = _node_at(doc, target)
    if node is None:
        return None
    data = doc.data
    if doc.language.name == "python":
        body = node.child_by_field_name("body")
        if body is None or body.start_point.row == node.start_point.row:
            return None  # one-line definitions are left alone
        line_start = data.rfind(b"\n", 0, body.start_byte) + 1
        indent = data[line_start : body.start_byte].decode("utf-8", "replace")
        if indent.strip():
            return None

        def render_py(raw: str) -> Rendered:
            sentence = clean(raw)
            return Rendered(python_docstring(sentence, indent) if sentence else "")

        offset = char_offset(data, line_start)
        infill = infill_between(doc.text, offset, f'{indent}"""', '"""\n', '"""')
        return Plan(
            offset,
            offset,
            render_py,
            ('"""', "\n\n"),
            prefill=answer_start(target),
            infill=infill,
        )

    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    prefix = data[line_start : node.start_byte].decode("utf-8", "replace")
    indent = prefix[: len(prefix) - len(prefix.lstrip())]
    if prefix.strip() and not re.fullmatch(r"\s*(export\s+(default\s+)?)?", prefix):
        return None

    def render_js(raw: str) -> Rendered:
        sentence = clean(raw)
        return Rendered(jsdoc(sentence, indent) if sentence else "")

    offset = char_offset(data, line_start)
    opener, closer = f"{indent}/**\n{indent} * ", f"\n{indent} */\n"
    infill = infill_between(doc.text, offset, opener, closer, "*/")
    return Plan(
        offset,
        offset,
        render_js,
        ("*/", "\n\n"),
        prefill=answer_start(target),
        infill=infill,
    )


def infill_between(text: str, offset: int, opener: str, closer: str, end: str) -> Infill:
    """Documentation as the infill between its opening and closing marks at ``offset``
    (a model without a chat template writes it where it goes)."""
    hole = Hole(
        plain_lines(text[:offset]) + opener,
        closer + plain_lines(text[offset:]),
        MarkerStop((end, "\n\n")),
    )
    return Infill((hole,), lambda texts: texts[0])


# --- the module's own documentation ------------------------------------------------------


def _has_module_doc(doc: ParsedDocument) -> bool:
    assert doc.tree is not None and doc.language is not None
    for child in doc.tree.root_node.named_children:
        if child.type == "comment":
            if doc.language.name != "python" and node_text(child).startswith("/**"):
                return True
            continue
        if doc.language.name == "python":
            return child.type == "expression_statement" and child.named_children[0].type in (
                "string",
                "concatenated_string",
            )
        return False
    return False


def find_module(ctx: ActionContext) -> Target | None:
    """The module, when the range is at module level and the module has no docstring."""
    doc = ctx.doc
    if doc.tree is None or doc.language is None or not doc.text.strip():
        return None
    if definitions_at(doc, ctx.start_byte, ctx.end_byte) or _has_module_doc(doc):
        return None
    code = doc.text.replace("\r\n", "\n")
    if len(code) > MODULE_CHARS:
        code = code[:MODULE_CHARS].rsplit("\n", 1)[0] + "\n# ... (rest of the file)"
    name = ctx.doc.uri.rstrip("/").rsplit("/", 1)[-1]
    return Target(0, len(doc.data), code, "module", name=name)


def _header_end(text: str, python: bool) -> int:
    """Offset after the lines that stay first: a shebang, a coding cookie, and the
    comment lines (a licence header) at the very top."""
    offset = 0
    comment = "#" if python else "//"
    for line in text.splitlines(keepends=True):
        if not (line.startswith("#!") and offset == 0) and not line.lstrip().startswith(comment):
            break
        offset += len(line)
    return offset


def plan_module(ctx: ActionContext, target: Target) -> Plan | None:
    doc = ctx.doc
    if doc.language is None:
        return None
    python = doc.language.name == "python"
    offset = _header_end(doc.text, python)
    follows = doc.text[offset:].lstrip(" \t")
    spacer = "" if not follows or follows.startswith(("\n", "\r")) else "\n"

    def render(raw: str) -> Rendered:
        sentence = clean(raw)
        if not sentence:
            return Rendered("")
        block = python_docstring(sentence, "") if python else jsdoc(sentence, "", "@file ")
        return Rendered(block + spacer)

    if python:
        infill = infill_between(doc.text, offset, '"""', '"""\n' + spacer, '"""')
    else:
        infill = infill_between(doc.text, offset, "/**\n * @file ", "\n */\n" + spacer, "*/")
    return Plan(offset, offset, render, ('"""',) if python else ("*/",), infill=infill)
