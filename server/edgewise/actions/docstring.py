"""Add docstring (Python) / JSDoc comment (JavaScript, TypeScript)."""

from __future__ import annotations

import re
import textwrap

from edgewise.actions.base import Plan, Target, char_offset
from edgewise.context.documents import ParsedDocument
from edgewise.context.scopes import definitions_at

MAX_CHARS = 400
WIDTH = 72


def find_target(doc: ParsedDocument, start_byte: int, end_byte: int) -> Target | None:
    """The innermost function or class around the range that has no documentation yet."""
    for definition in definitions_at(doc, start_byte, end_byte):
        node = definition.node
        # `export function f` keeps its JSDoc above `export`, not above `function`
        outer = node.parent if node.parent and node.parent.type == "export_statement" else node
        if definition.doc is not None or _has_jsdoc(doc, outer.start_byte):
            continue
        code = node.text.decode("utf-8", "replace") if node.text else ""
        kind = "class" if "class" in node.type else "function"
        return Target(node.start_byte, node.end_byte, code, kind)
    return None


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
    text = text.strip("\"'` ")
    return text[:MAX_CHARS].rstrip()


def plan_insert(doc: ParsedDocument, target: Target) -> Plan | None:
    if doc.tree is None or doc.language is None:
        return None
    node = doc.tree.root_node.descendant_for_byte_range(target.start_byte, target.end_byte)
    while node is not None and (node.start_byte, node.end_byte) != (
        target.start_byte,
        target.end_byte,
    ):
        node = node.parent
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

        def render_py(raw: str) -> str:
            sentence = clean(raw)
            if not sentence:
                return ""
            one = f'{indent}"""{sentence}"""\n'
            if len(one) <= WIDTH + 16:
                return one
            lines = textwrap.wrap(sentence, WIDTH - len(indent)) or [""]
            body_text = "\n".join(indent + line for line in lines[1:])
            return f'{indent}"""{lines[0]}\n{body_text}\n{indent}"""\n'

        return Plan(char_offset(data, line_start), render_py, ('"""',))

    line_start = data.rfind(b"\n", 0, node.start_byte) + 1
    prefix = data[line_start : node.start_byte].decode("utf-8", "replace")
    indent = prefix[: len(prefix) - len(prefix.lstrip())]
    if prefix.strip() and not re.fullmatch(r"\s*(export\s+(default\s+)?)?", prefix):
        return None

    def render_js(raw: str) -> str:
        sentence = clean(raw)
        if not sentence:
            return ""
        lines = textwrap.wrap(sentence, WIDTH - len(indent)) or [""]
        middle = "".join(f"{indent} * {line}\n" for line in lines)
        return f"{indent}/**\n{middle}{indent} */\n"

    return Plan(char_offset(data, line_start), render_js, ("*/",))
