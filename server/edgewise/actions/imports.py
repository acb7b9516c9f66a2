"""Where import lines go, and which ones a piece of new code needs."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable

from tree_sitter import Tree

from edgewise.actions.base import char_offset, line_end
from edgewise.context.documents import ParsedDocument
from edgewise.context.languages import LanguageInfo

TYPING_NAMES = frozenset(name for name in typing.__all__ if name[:1].isupper())
PY_IMPORTS = {"import_statement", "import_from_statement", "future_import_statement"}
IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")


def _after_line(text: str, offset: int) -> int:
    """Offset of the start of the line after the one holding ``offset``."""
    end = line_end(text, offset)
    if end >= len(text):
        return len(text)
    return end + (2 if text.startswith("\r\n", end) else 1)


def import_offset(text: str, tree: Tree | None, language: str) -> int | None:
    """A line start after the file's leading imports (after its module docstring and
    first comments when it has no imports); None when there is no safe place."""
    if tree is None:
        return None
    data = text.encode("utf-8", "surrogatepass")
    imports = PY_IMPORTS if language == "python" else {"import_statement"}
    last: int | None = None
    docstring: int | None = None
    for index, node in enumerate(tree.root_node.named_children):
        if node.type in imports:
            last = node.end_byte
            continue
        if node.type == "comment":
            continue
        if (
            language == "python"
            and index == 0
            and node.type == "expression_statement"
            and node.named_children
            and node.named_children[0].type == "string"
        ):
            docstring = node.end_byte
            continue
        if node.type == "expression_statement" and language != "python":
            string = node.named_children[0] if node.named_children else None
            if string is not None and string.type == "string" and last is None:
                docstring = node.end_byte  # "use strict"
                continue
        break
    anchor = last if last is not None else docstring
    if anchor is None:
        start = 0
        for line in text.splitlines(keepends=True)[:2]:
            if line.startswith("#!") or re.match(r"^[ \t\f]*#.*?coding[:=]", line):
                start += len(line)
            else:
                break
        return start
    return _after_line(text, char_offset(data, anchor))


def python_import_offset(doc: ParsedDocument) -> int | None:
    return import_offset(doc.text, doc.tree, "python")


def bound_names(text: str, tree: Tree | None) -> set[str]:
    """Names a Python module binds at top level (imports, definitions, assignments)."""
    names: set[str] = set()
    if tree is None:
        return names
    for node in tree.root_node.named_children:
        target = node
        if node.type == "decorated_definition":
            target = node.child_by_field_name("definition") or node
        if target.type in ("function_definition", "class_definition"):
            name = target.child_by_field_name("name")
            if name is not None and name.text:
                names.add(name.text.decode())
        elif target.type in PY_IMPORTS:
            for child in target.named_children:
                if child.type == "aliased_import":
                    alias = child.child_by_field_name("alias")
                    if alias is not None and alias.text:
                        names.add(alias.text.decode())
                elif child.type == "dotted_name" and child.text:
                    names.add(child.text.decode().split(".")[-1])
                    names.add(child.text.decode().split(".")[0])
        elif target.type == "expression_statement" and target.named_children:
            assign = target.named_children[0]
            left = assign.child_by_field_name("left")
            if assign.type == "assignment" and left is not None and left.text:
                names.add(left.text.decode())
    return names


def typing_imports(doc: ParsedDocument, annotations: Iterable[str]) -> str:
    """``from typing import ...`` for the typing names the annotations use and the
    module does not bind yet ("" when none is needed)."""
    used = {name for text in annotations for name in IDENTIFIER.findall(text)}
    missing = sorted((used & TYPING_NAMES) - bound_names(doc.text, doc.tree))
    return f"from typing import {', '.join(missing)}\n" if missing else ""


def has_import_of(language: LanguageInfo, text: str, name: str) -> bool:
    """Whether a file already imports ``name`` (by its own name) somewhere."""
    if language.name == "python":
        return bool(
            re.search(rf"^\s*(from\s+\S+\s+)?import\s+[^\n]*\b{re.escape(name)}\b", text, re.M)
        )
    word = re.escape(name)
    return bool(
        re.search(rf"^\s*import\s[^\n;]*\b{word}\b", text, re.M)
        or re.search(rf"^\s*(const|let|var)\s[^\n;]*\b{word}\b[^\n;]*require\(", text, re.M)
    )
