"""What a model may fill into code structure, checked by allow-list before any edit.

A type annotation is inserted where Python evaluates it (a ``def`` line runs its
annotations unless the module postpones them), so "parses as an expression" is not
enough: ``__import__('os').system('...') or int`` parses. A type is a *type expression*:
names, attributes, subscripts, ``|`` unions, ``None``, ``...``, literal values inside
``Literal[...]``/``Annotated[...]``, lists of types inside a subscript
(``Callable[[int], str]``) and strings whose content is itself a type expression; never a
call, lambda, comprehension, boolean operator, walrus, ``await`` or starred expression.

TypeScript and JSDoc types are parsed with tree-sitter (as the type of ``let x: T;``) and
every node of the type must be of an allowed kind. A Python docstring must stay one
string literal, a JSDoc comment must stay one comment, and a module name must be a dotted
identifier. Each check returns None when the value is allowed, else why not.
"""

from __future__ import annotations

import ast
import re
import textwrap
from functools import cache

from tree_sitter import Node

from edgewise.context.languages import SPECS, LanguageInfo

MAX_DEPTH = 32  # nesting of a type (and of string annotations inside it)

_PY_REFUSED: dict[type[ast.AST], str] = {
    ast.Call: "a function call",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.BoolOp: "a boolean operator",
    ast.NamedExpr: "an assignment expression (:=)",
    ast.Await: "an await",
    ast.Yield: "a yield",
    ast.YieldFrom: "a yield",
    ast.Starred: "a starred expression",
    ast.Compare: "a comparison",
    ast.IfExp: "a conditional expression",
    ast.Dict: "a dict display",
    ast.Set: "a set display",
    ast.JoinedStr: "an f-string",
    ast.Slice: "a slice",
    ast.UnaryOp: "an operator",
    ast.BinOp: "an operator other than |",
}


def _py_what(node: ast.AST) -> str:
    return _PY_REFUSED.get(type(node), f"a {type(node).__name__} expression")


def _generic_name(node: ast.expr) -> str | None:
    """``Literal`` for ``Literal``, ``typing.Literal``, ``t.Literal``; None if not a name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and _generic_name(node.value) is not None:
        return node.attr
    return None


def python_type_problem(text: str) -> str | None:
    """None when ``text`` is a Python type expression, else what it is instead."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "not a Python expression"
    return _py_type(tree.body, 0)


def _py_type(node: ast.expr, depth: int) -> str | None:
    if depth > MAX_DEPTH:
        return "nested too deep"
    if isinstance(node, ast.Name | ast.Attribute):
        return None if _generic_name(node) is not None else _py_what(_first_bad(node))
    if isinstance(node, ast.Constant):
        if node.value is None or node.value is Ellipsis:
            return None
        if isinstance(node.value, str):  # a string annotation: its content is a type
            inner = python_type_problem(node.value) if depth < MAX_DEPTH else "nested too deep"
            return None if inner is None else f"a string holding {inner}"
        return "a literal value outside Literal[...]"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _py_type(node.left, depth + 1) or _py_type(node.right, depth + 1)
    if isinstance(node, ast.Subscript):
        generic = _generic_name(node.value)
        if generic is None:
            return _py_what(_first_bad(node.value))
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for index, item in enumerate(items):
            if generic == "Literal" or (generic == "Annotated" and index > 0):
                problem = _py_literal(item)
            elif isinstance(item, ast.List):  # Callable[[int, str], bool]
                problem = next(
                    (p for e in item.elts if (p := _py_type(e, depth + 1)) is not None), None
                )
            else:
                problem = _py_type(item, depth + 1)
            if problem is not None:
                return problem
        return None
    return _py_what(node)


def _first_bad(node: ast.expr) -> ast.expr:
    """The part of an attribute chain that is not a name (a call in ``f().x``)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node


def _py_literal(node: ast.expr) -> str | None:
    """A value inside ``Literal[...]``: a constant, a negative number, an enum member."""
    if isinstance(node, ast.Constant):
        return None
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float | complex)
    ):
        return None
    if isinstance(node, ast.Name | ast.Attribute) and _generic_name(node) is not None:
        return None
    return _py_what(node)


# --- TypeScript and JSDoc ------------------------------------------------------------------

TS_TYPE_KINDS = frozenset(
    {
        "type_annotation",
        "predefined_type",
        "type_identifier",
        "nested_type_identifier",
        "nested_identifier",
        "identifier",
        "property_identifier",
        "member_expression",
        "generic_type",
        "type_arguments",
        "union_type",
        "intersection_type",
        "array_type",
        "tuple_type",
        "optional_type",
        "rest_type",
        "named_tuple_member",
        "optional_tuple_parameter",
        "rest_tuple_parameter",  # not in every grammar version; harmless when absent
        "parenthesized_type",
        "readonly_type",
        "literal_type",
        "string",
        "string_fragment",
        "escape_sequence",
        "number",
        "unary_expression",  # only as a literal type: -1
        "true",
        "false",
        "null",
        "undefined",
        "this_type",
        "this",
        "object_type",
        "property_signature",
        "method_signature",
        "call_signature",
        "construct_signature",
        "index_signature",
        "mapped_type_clause",
        "function_type",
        "constructor_type",
        "formal_parameters",
        "required_parameter",
        "optional_parameter",
        "type_parameters",
        "type_parameter",
        "constraint",
        "default_type",
        "type_query",
        "index_type_query",
        "lookup_type",
        "conditional_type",
        "infer_type",
        "type_predicate",
        "asserts",
        "asserts_annotation",
        "type_predicate_annotation",
        "template_literal_type",
        "template_type",
        "accessibility_modifier",
        "existential_type",
    }
)


@cache
def _typescript() -> LanguageInfo:
    return LanguageInfo(next(spec for spec in SPECS if spec.name == "typescript"))


def typescript_type_problem(text: str, language: LanguageInfo | None = None) -> str | None:
    """None when ``text`` is exactly one TypeScript type, else why not. ``language`` is
    TypeScript or TSX (the document's); by default TypeScript."""
    if not text.strip() or "\n" in text or "\r" in text:
        return "not one line"
    source = f"let x: {text};\n".encode()
    tree = (language or _typescript()).parser().parse(source)
    root = tree.root_node
    if root.has_error:
        return "not a TypeScript type"
    statements = root.named_children
    declarators = statements[0].named_children if len(statements) == 1 else []
    declarator = declarators[0] if len(declarators) == 1 else None
    if (
        statements[0].type != "lexical_declaration"
        or declarator is None
        or declarator.type != "variable_declarator"
        or declarator.child_by_field_name("value") is not None
    ):
        return "more than a type"
    annotation = declarator.child_by_field_name("type")
    if annotation is None or annotation.end_byte != len(source) - 2:
        return "more than a type"
    return _ts_nodes(annotation, 0)


def _ts_nodes(node: Node, depth: int) -> str | None:
    if depth > MAX_DEPTH * 4:
        return "nested too deep"
    if node.is_named and node.type not in TS_TYPE_KINDS:
        return f"code ({node.type.replace('_', ' ')})"
    for child in node.children:
        problem = _ts_nodes(child, depth + 1)
        if problem is not None:
            return problem
    return None


_JSDOC_ONLY = (
    (re.compile(r"^\.\.\."), ""),  # ...T (rest parameter)
    (re.compile(r"^[?!]"), ""),  # ?T nullable, !T non-null
    (re.compile(r"=$"), ""),  # T= optional parameter
    (re.compile(r"\.<"), "<"),  # Array.<string>
    (re.compile(r"(?<![\w$])[*?](?![\w$])"), "any"),  # * and a bare ? (any type)
)


def jsdoc_type_problem(text: str) -> str | None:
    """None when ``text`` is a JSDoc type: a TypeScript type, once the JSDoc-only forms
    (``?T``, ``!T``, ``T=``, ``...T``, ``Array.<T>``, ``*``) are read as their TypeScript
    equivalents. It also never ends the comment it is written into."""
    if "*/" in text or "/*" in text:
        return "a comment marker"
    plain = text.strip()
    for pattern, replacement in _JSDOC_ONLY:
        plain = pattern.sub(replacement, plain)
    return typescript_type_problem(plain)


# --- docstrings, comments, module names ---------------------------------------------------


def python_docstring_problem(block: str) -> str | None:
    """None when ``block`` (indented lines) is exactly one string literal statement."""
    try:
        module = ast.parse(textwrap.dedent(block))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "it does not parse as a string"
    body = module.body
    if (
        len(body) != 1
        or not isinstance(body[0], ast.Expr)
        or not isinstance(body[0].value, ast.Constant)
        or not isinstance(body[0].value.value, str)
    ):
        return "it is not one string literal"
    return None


def jsdoc_comment_problem(block: str) -> str | None:
    """None when ``block`` is one ``/** ... */`` comment and nothing after it."""
    stripped = block.strip()
    if not (stripped.startswith("/**") and stripped.endswith("*/")):
        return "it is not a /** */ comment"
    if "*/" in stripped[3:-2]:
        return "it ends the comment early"
    return None


DOTTED_NAME = re.compile(r"^[^\W\d]\w*(\.[^\W\d]\w*)*$")


def module_name_problem(name: str) -> str | None:
    """None when ``name`` is a dotted Python identifier (``pkg.sub.mod``)."""
    if DOTTED_NAME.match(name) and all(part.isidentifier() for part in name.split(".")):
        return None
    return f"{name!r} is not a dotted module name"


def js_specifier_problem(specifier: str) -> str | None:
    """None when ``specifier`` can be written inside a double-quoted JS string as is."""
    if any(char in specifier for char in '"\\') or not specifier.isprintable():
        return f"the path {specifier!r} cannot be written in an import"
    return None
