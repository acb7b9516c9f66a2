"""Types for a function: Python annotations, JSDoc types (JavaScript), explicit return
types (TypeScript).

The model only proposes types. The edit is built from the function's own text: each
type is inserted next to the parameter it belongs to, so names, defaults, comments and
line breaks of the signature stay exactly as they were, and a reply that renames a
parameter cannot change the code.
"""

from __future__ import annotations

import re

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
from edgewise.actions.codeblock import extract_code, fence, fence_stop
from edgewise.actions.docstring import _has_jsdoc
from edgewise.actions.imports import python_import_offset, typing_imports
from edgewise.actions.regions import (
    function_node,
    innermost_definition,
    kind_of,
    name_of,
    node_text,
)
from edgewise.actions.safe_fill import (
    jsdoc_type_problem,
    python_type_problem,
    typescript_type_problem,
)
from edgewise.context.documents import ParsedDocument
from edgewise.context.languages import LanguageInfo
from edgewise.model.stops import FENCE, TypeStop

MAX_TYPE = 120
TYPE_TOKENS = 32  # most tokens of one type written as an infill
SELF_NAMES = {"self", "cls"}


def _plain(text: str) -> bool:
    """One short line without comments: the shape a type is inserted in."""
    return bool(text) and "\n" not in text and len(text) <= MAX_TYPE and "#" not in text


def _python_type(text: str, name: str) -> bool:
    """Whether the model's type for ``name`` is inserted: False when it gave none (or
    one that does not fit on the line); a type that is code refuses the whole reply."""
    if not _plain(text):
        return False
    problem = python_type_problem(text)
    if problem is not None:
        raise RenderError(
            f"the model's type for {name} is {problem}, not a type expression: {text[:40]!r}"
        )
    return True


# --- Python --------------------------------------------------------------------------------


def _python_params(node: Node) -> list[tuple[Node, str]]:
    """The parameters of a Python function that have no annotation: (node, name)."""
    params = node.child_by_field_name("parameters")
    out: list[tuple[Node, str]] = []
    if params is None:
        return out
    method = kind_of(node) == "method"
    for index, param in enumerate(params.named_children):
        if param.type == "identifier":
            name = node_text(param)
            if index == 0 and method and name in SELF_NAMES:
                continue
            out.append((param, name))
        elif param.type == "default_parameter":
            name_node = param.child_by_field_name("name")
            if name_node is not None:
                out.append((param, node_text(name_node)))
        elif param.type in ("list_splat_pattern", "dictionary_splat_pattern"):
            inner = param.named_children[0] if param.named_children else None
            if inner is not None and inner.type == "identifier":
                out.append((param, node_text(inner)))
    return out


def _python_function(ctx: ActionContext) -> Node | None:
    node = innermost_definition(ctx.doc, ctx.start_byte, ctx.end_byte, classes=False)
    if node is None or node.type != "function_definition":
        return None
    return node


def find_python(ctx: ActionContext) -> Target | None:
    """The innermost Python function with an unannotated parameter or no return type."""
    if ctx.doc.language is None or ctx.doc.language.name != "python":
        return None
    node = _python_function(ctx)
    if node is None:
        return None
    missing = [name for _, name in _python_params(node)]
    if node.child_by_field_name("return_type") is None:
        missing.append("return")
    if not missing:
        return None
    return Target(
        node.start_byte,
        node.end_byte,
        node_text(node),
        kind_of(node),
        {"missing": ", ".join(missing)},
        name_of(node),
    )


def _colon(node: Node) -> Node | None:
    return next((c for c in node.children if c.type == ":"), None)


def _model_types(language: LanguageInfo, reply: str, name: str) -> tuple[dict[str, str], str]:
    """Parameter types and return type from the model's annotated ``def`` line."""
    code = extract_code(reply)
    found = re.search(rf"(?:async\s+)?def\s+{re.escape(name)}\s*\(", code)
    if found is None:
        raise RenderError(f"the model's reply had no signature for {name}")
    header = code[found.start() :]
    depth = 0
    end = -1
    for index, char in enumerate(header):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            end = index
            break
    if end < 0:
        raise RenderError(f"the model's signature for {name} is not complete")
    tree = language.parser().parse((header[: end + 1] + "\n    pass\n").encode("utf-8"))
    func = next((n for n in tree.root_node.named_children if n.type == "function_definition"), None)
    if func is None or tree.root_node.has_error:
        raise RenderError(f"the model's signature for {name} does not parse")
    types: dict[str, str] = {}
    params = func.child_by_field_name("parameters")
    for param in params.named_children if params is not None else []:
        type_node = param.child_by_field_name("type")
        if type_node is None:
            continue
        if param.type == "typed_default_parameter":
            name_node = param.child_by_field_name("name")
        else:
            name_node = param.named_children[0]
            if name_node.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                name_node = name_node.named_children[0]
        if name_node is not None:
            types[node_text(name_node)] = node_text(type_node)
    ret = func.child_by_field_name("return_type")
    return types, node_text(ret) if ret is not None else ""


def plan_python(ctx: ActionContext, target: Target) -> Plan | None:
    doc = ctx.doc
    node = _python_function(ctx)
    language = doc.language
    if node is None or language is None:
        return None
    params = node.child_by_field_name("parameters")
    colon = _colon(node)
    if params is None or colon is None:
        return None
    data = doc.data
    start, end = char_offset(data, params.start_byte), char_offset(data, colon.end_byte)
    original = doc.text[start:end]
    unannotated = _python_params(node)
    needs_return = node.child_by_field_name("return_type") is None
    is_async = any(child.type == "async" for child in node.children)

    def offset(byte: int) -> int:
        return char_offset(data, byte) - start

    def render(reply: str) -> Rendered:
        types, ret = _model_types(language, reply, target.name)
        inserts: list[tuple[int, int, str]] = []  # (from, to, text) relative to ``start``
        used: list[str] = []
        for param, name in unannotated:
            annotation = types.get(name, "")
            if not _python_type(annotation, name):
                continue
            used.append(annotation)
            if param.type == "default_parameter":
                name_node = param.child_by_field_name("name")
                value = param.child_by_field_name("value")
                assert name_node is not None and value is not None
                inserts.append(
                    (offset(name_node.end_byte), offset(value.start_byte), f": {annotation} = ")
                )
            else:
                inserts.append((offset(param.end_byte),) * 2 + (f": {annotation}",))
        if needs_return and _python_type(ret, "the return value"):
            used.append(ret)
            inserts.append((offset(params.end_byte),) * 2 + (f" -> {ret}",))
        if not inserts:
            raise RenderError(f"the model's reply gave no usable types for {target.name}")
        text = original
        for a, b, new in sorted(inserts, reverse=True):
            text = text[:a] + new + text[b:]
        return Rendered(text, typing_imports(doc, used))

    prefill = fence("python") + ("async " if is_async else "") + f"def {target.name}("
    return Plan(
        start,
        end,
        render,
        stop=fence_stop(),
        prefill=prefill,
        import_offset=python_import_offset(doc),
        infill=_python_infill(doc, target.name, unannotated, params if needs_return else None),
    )


def _python_infill(
    doc: ParsedDocument, name: str, unannotated: list[tuple[Node, str]], params: Node | None
) -> Infill:
    """Each missing type as the infill after ``: `` (or ``-> ``) in the file, for a model
    without a chat template; the infills are written back as the annotated ``def`` line
    a chat model replies with. Infills that are no plain type are left out."""
    text, data = doc.text, doc.data
    holes: list[Hole] = []
    written: list[str] = []  # how each parameter is written in the def line ('*args')

    def hole(cut_byte: int, opener: str, resume_byte: int, lead: str, ends: str) -> Hole:
        cut, resume = char_offset(data, cut_byte), char_offset(data, resume_byte)
        before = plain_lines(text[:cut]) + opener
        return Hole(before, lead + plain_lines(text[resume:]), TypeStop(ends), TYPE_TOKENS)

    for param, param_name in unannotated:
        if param.type == "default_parameter":
            name_node, value = param.child_by_field_name("name"), param.child_by_field_name("value")
            assert name_node is not None and value is not None
            holes.append(hole(name_node.end_byte, ": ", value.start_byte, " = ", ",="))
            written.append(param_name)
        else:
            holes.append(hole(param.end_byte, ": ", param.end_byte, "", ",="))
            written.append(node_text(param))
    if params is not None:
        colon = _colon(params.parent) if params.parent is not None else None
        resume = colon.start_byte if colon is not None else params.end_byte
        holes.append(hole(params.end_byte, " -> ", resume, "", ":"))

    def reply(texts: list[str]) -> str:
        types = [t.strip() for t in texts]
        usable = [t if _plain(t) and python_type_problem(t) is None else "" for t in types]
        parts = [f"{w}: {t}" for w, t in zip(written, usable, strict=False) if t]
        ret = usable[len(written)] if params is not None else ""
        arrow = f" -> {ret}" if ret else ""
        return fence("python") + f"def {name}({', '.join(parts)}){arrow}:\n{FENCE}"

    return Infill(tuple(holes), reply)


# --- TypeScript: explicit return types ---------------------------------------------------


def _ts_function(doc: ParsedDocument, start_byte: int, end_byte: int) -> Node | None:
    definition = innermost_definition(doc, start_byte, end_byte, classes=False)
    if definition is None:
        return None
    node = function_node(definition)
    params = node.child_by_field_name("parameters")
    if params is None or node.child_by_field_name("return_type") is not None:
        return None
    if name_of(node) == "constructor" or any(c.type in ("set",) for c in node.children):
        return None
    return node


def find_return_type(ctx: ActionContext) -> Target | None:
    doc = ctx.doc
    if doc.language is None or doc.language.name not in ("typescript", "tsx"):
        return None
    node = _ts_function(doc, ctx.start_byte, ctx.end_byte)
    if node is None:
        return None
    definition = innermost_definition(doc, ctx.start_byte, ctx.end_byte, classes=False)
    assert definition is not None
    return Target(
        definition.start_byte,
        definition.end_byte,
        node_text(definition),
        kind_of(node),
        name=name_of(definition),
    )


def plan_return_type(ctx: ActionContext, target: Target) -> Plan | None:
    doc = ctx.doc
    language = doc.language
    node = _ts_function(doc, ctx.start_byte, ctx.end_byte)
    params = node.child_by_field_name("parameters") if node is not None else None
    if language is None or params is None:
        return None
    at = char_offset(doc.data, params.end_byte)

    def render(reply: str) -> Rendered:
        code = extract_code(reply)
        first = next((line.strip() for line in code.split("\n") if line.strip()), "")
        first = re.sub(r"^(?:type\s+\w+\s*=|:)\s*", "", first).rstrip(";{ ").strip()
        problem = typescript_type_problem(first, language) if _plain(first) else "too long"
        if problem is not None:
            raise RenderError(
                f"the model's reply was not a TypeScript type ({problem}): {first[:40]!r}"
            )
        return Rendered(f": {first}")

    hole = Hole(
        plain_lines(doc.text[:at]) + ": ", plain_lines(doc.text[at:]), TypeStop(";="), TYPE_TOKENS
    )
    infill = Infill((hole,), lambda texts: texts[0])
    return Plan(at, at, render, stop=fence_stop(), prefill=fence("typescript"), infill=infill)


# --- JavaScript: JSDoc types ---------------------------------------------------------------


def _js_params(node: Node) -> list[str]:
    params = node.child_by_field_name("parameters")
    names: list[str] = []
    for param in params.named_children if params is not None else []:
        if param.type == "identifier":
            names.append(node_text(param))
        elif param.type == "assignment_pattern":
            left = param.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                names.append(node_text(left))
        elif param.type == "rest_pattern" and param.named_children:
            names.append(node_text(param.named_children[0]))
    return names


def find_jsdoc_types(ctx: ActionContext) -> Target | None:
    doc = ctx.doc
    if doc.language is None or doc.language.name != "javascript":
        return None
    definition = innermost_definition(doc, ctx.start_byte, ctx.end_byte, classes=False)
    if definition is None or _has_jsdoc(doc, definition.start_byte):
        return None
    node = function_node(definition)
    if node.child_by_field_name("parameters") is None:
        return None
    return Target(
        definition.start_byte,
        definition.end_byte,
        node_text(definition),
        kind_of(node),
        {"params": ", ".join(_js_params(node)) or "(none)"},
        name_of(definition),
    )


JSDOC_TYPE = re.compile(r"^[\w$.<>\[\]|,:(){}?*!=\s'\"-]+$")
PARAM_TAG = re.compile(r"@param\s*\{([^{}\n]*(?:\{[^{}\n]*\}[^{}\n]*)*)\}\s*\[?([\w$]+)")
RETURN_TAG = re.compile(r"@returns?\s*\{([^{}\n]*(?:\{[^{}\n]*\}[^{}\n]*)*)\}")


def _jsdoc_type(text: str, name: str) -> str | None:
    """The model's JSDoc type for ``name``, None when it gave none that fits on a line;
    a type that is code (or ends the comment) refuses the whole reply."""
    text = " ".join(text.split())
    if not _plain(text) or "//" in text:
        return None
    problem = jsdoc_type_problem(text) if JSDOC_TYPE.match(text) else "not a JSDoc type"
    if problem is not None:
        raise RenderError(f"the model's type for {name} is {problem}: {text[:40]!r}")
    return text


def plan_jsdoc_types(ctx: ActionContext, target: Target) -> Plan | None:
    doc = ctx.doc
    definition = innermost_definition(doc, ctx.start_byte, ctx.end_byte, classes=False)
    if definition is None:
        return None
    names = _js_params(function_node(definition))
    data = doc.data
    line_start = data.rfind(b"\n", 0, definition.start_byte) + 1
    prefix = data[line_start : definition.start_byte].decode("utf-8", "replace")
    if prefix.strip() and not re.fullmatch(r"\s*(export\s+(default\s+)?)?", prefix):
        return None
    indent = prefix[: len(prefix) - len(prefix.lstrip())]

    def render(reply: str) -> Rendered:
        code = extract_code(reply)
        types = {name: kind for kind, name in PARAM_TAG.findall(code)}
        lines = []
        for name in names:
            kind = _jsdoc_type(types.get(name, ""), name)
            if kind is not None:
                lines.append(f"@param {{{kind}}} {name}")
        returns = RETURN_TAG.search(code)
        kind = _jsdoc_type(returns.group(1), "the return value") if returns else None
        if kind is not None:
            lines.append(f"@returns {{{kind}}}")
        if not lines:
            raise RenderError(f"the model's reply gave no usable JSDoc types for {target.name}")
        middle = "".join(f"{indent} * {line}\n" for line in lines)
        return Rendered(f"{indent}/**\n{middle}{indent} */\n")

    offset = char_offset(data, line_start)
    return Plan(
        offset,
        offset,
        render,
        stop=fence_stop(),
        prefill=fence("javascript") + "/**\n",
        infill=_jsdoc_infill(doc.text, offset, indent, names),
    )


def _jsdoc_infill(text: str, offset: int, indent: str, names: list[str]) -> Infill:
    """Each type as the infill between ``{`` and ``}`` of its ``@param`` (or
    ``@returns``) line in a JSDoc comment written above the function, for a model without
    a chat template; the infills are written back as the comment a chat model replies
    with."""
    before, after = plain_lines(text[:offset]), plain_lines(text[offset:])
    tags = [f"@param {{|}} {name}" for name in names] + ["@returns {|}"]
    holes = []
    for tag in tags:
        opening, closing = tag.split("|")
        holes.append(
            Hole(
                f"{before}{indent}/**\n{indent} * {opening}",
                f"{closing}\n{indent} */\n{after}",
                TypeStop(""),
                TYPE_TOKENS,
            )
        )

    def usable(kind: str) -> bool:  # an infill that is no JSDoc type is left out
        try:
            return _jsdoc_type(kind, "") is not None
        except RenderError:
            return False

    def reply(texts: list[str]) -> str:
        body = "".join(
            f" * {tag.replace('|', kind.strip())}\n"
            for tag, kind in zip(tags, texts, strict=False)
            if usable(kind)
        )
        return f"{fence('javascript')}/**\n{body} */\n{FENCE}"

    return Infill(tuple(holes), reply)
