"""What the model fills into code structure is checked by allow-list: a type is a type
expression (never a call, lambda, comprehension...), a docstring stays one string
literal, a JSDoc comment stays one comment, an import names a module. A crafted reply is
refused with the reason, and nothing of it reaches the edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.actions.annotate import (
    find_jsdoc_types,
    find_python,
    find_return_type,
    plan_jsdoc_types,
    plan_python,
    plan_return_type,
)
from edgewise.actions.base import ActionContext, RenderError, Workspace
from edgewise.actions.docstring import find_target, plan_insert
from edgewise.actions.safe_fill import python_type_problem, typescript_type_problem
from edgewise.actions.testgen import find_test, plan_test
from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry

LANGUAGES = LanguageRegistry()
PYTHON = "def area(width, height=1):\n    return width * height\n"
CRAFTED = "__import__('os').system('touch PWNED') or int"


def context(text: str, at: str, language: str, uri: str | None = None) -> ActionContext:
    doc = DocumentStore(LANGUAGES).open(uri or f"file:///w/x.{language[:2]}", text, language)
    offset = len(text[: text.index(at)].encode())
    return ActionContext(doc, offset, offset)


def python_plan():
    ctx = context(PYTHON, "area", "python")
    target = find_python(ctx)
    assert target is not None
    plan = plan_python(ctx, target)
    assert plan is not None
    return plan


@pytest.mark.parametrize(
    ("annotation", "reason"),
    [
        (CRAFTED, "a boolean operator"),
        ("__import__('os').system('id')", "a function call"),
        ("(lambda: int)()", "a function call"),
        ("lambda: int", "a lambda"),
        ("[c for c in 'ab']", "a comprehension"),
        ("(x := int)", "an assignment expression"),
        ("'__import__(\"os\").getcwd()'", "a string holding a function call"),
        ("Literal[print('x')]", "a function call"),
        ("int if open('f') else str", "a conditional expression"),
    ],
)
def test_a_type_that_is_code_refuses_the_whole_reply(annotation: str, reason: str):
    plan = python_plan()
    reply = f"```python\ndef area(width: {annotation}, height: int = 1) -> int:\n```"
    with pytest.raises(RenderError) as refused:
        plan.render(reply)
    message = str(refused.value)
    assert "width" in message and reason in message and "not a type expression" in message


def test_the_crafted_return_type_is_refused_too():
    plan = python_plan()
    reply = f"```python\ndef area(width: int, height: int = 1) -> {CRAFTED}:\n```"
    with pytest.raises(RenderError, match="return value is a boolean operator"):
        plan.render(reply)


@pytest.mark.parametrize(
    "annotation",
    [
        "int",
        "float | None",
        "Optional[dict[str, list[int]]]",
        "Callable[[int, str], bool]",
        "Literal['wide', -1, None]",
        "'Shape'",
        "typing.Tuple[int, ...]",
        "Annotated[int, 'metres']",
    ],
)
def test_real_types_are_inserted(annotation: str):
    plan = python_plan()
    rendered = plan.render(f"```python\ndef area(width: {annotation}, height=1) -> float:\n```")
    assert rendered.text.startswith(f"(width: {annotation}, height=1) -> float")


def test_python_type_expressions_by_allow_list():
    assert python_type_problem("list[int] | None") is None
    assert python_type_problem("int + 1") == "an operator other than |"
    assert python_type_problem("{'a': int}") == "a dict display"
    assert python_type_problem("f().x") == "a function call"
    assert python_type_problem("1") == "a literal value outside Literal[...]"
    nested = "'" * 1 + "List[" * 40 + "int" + "]" * 40 + "'"
    assert python_type_problem(nested) == "a string holding nested too deep"


def test_a_typescript_return_type_must_be_only_a_type():
    text = "export function size(items: string[]) {\n  return items.length;\n}\n"
    ctx = context(text, "size", "typescript")
    target = find_return_type(ctx)
    assert target is not None
    plan = plan_return_type(ctx, target)
    assert plan is not None
    assert plan.render("```typescript\nMap<string, number[]> | null\n```").text == (
        ": Map<string, number[]> | null"
    )
    for crafted in (
        "number = require('child_process').execSync('touch PWNED')",
        "{ a: number }; require('child_process').execSync('x'); let y: number",
        "(a = require('fs').rmSync('/')) => void",
    ):
        with pytest.raises(RenderError, match="not a TypeScript type"):
            plan.render(f"```typescript\n{crafted}\n```")
    assert typescript_type_problem("(a = eval('x')) => void") == "code (call expression)"
    assert typescript_type_problem("keyof T | `id-${string}`") is None


def test_jsdoc_types_must_be_types_and_never_end_the_comment():
    text = "function scale(width, factor) {\n  return width * factor;\n}\n"
    ctx = context(text, "scale", "javascript")
    target = find_jsdoc_types(ctx)
    assert target is not None
    plan = plan_jsdoc_types(ctx, target)
    assert plan is not None
    good = plan.render(
        "```javascript\n/**\n * @param {?number} width\n * @param {Array.<string>=} factor\n"
        " * @returns {number}\n */\n```"
    )
    assert "@param {?number} width" in good.text and "@returns {number}" in good.text
    for crafted in ("number*/ require('x'); /*", "(a = eval('x')) => void"):
        with pytest.raises(RenderError):
            plan.render(f"```javascript\n/**\n * @param {{{crafted}}} width\n */\n```")


@pytest.mark.parametrize(
    "reply",
    [
        'is fine.""" ; __import__("os").system("id") ; """',
        "x" * 398 + '"',  # a quote left next to the closing quotes by the length cap
        "ends with a backslash \\",
    ],
)
def test_a_docstring_stays_one_string_literal(reply: str):
    import ast

    ctx = context(PYTHON, "area", "python")
    target = find_target(ctx)
    assert target is not None
    plan = plan_insert(ctx, target)
    assert plan is not None
    block = plan.render(reply).text
    module = ast.parse(PYTHON[: plan.start] + block + PYTHON[plan.start :])
    function = module.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert ast.get_docstring(function) is not None
    assert len(function.body) == 2, "the docstring and the return: nothing else"


def test_a_test_import_names_a_module(tmp_path: Path):
    source = tmp_path / "my-shapes.py"  # not importable by that name
    source.write_text(PYTHON)
    ctx = context(PYTHON, "area", "python", source.as_uri())
    ctx = ActionContext(ctx.doc, ctx.start_byte, ctx.end_byte, workspace=Workspace((tmp_path,)))
    target = find_test(ctx)
    assert target is not None
    with pytest.raises(RenderError, match="'my-shapes' is not a dotted module name"):
        plan_test(ctx, target)
