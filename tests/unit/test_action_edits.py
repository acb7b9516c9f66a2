"""The promises every edit keeps, checked in code (actions/edits.py) and here: inside its
range, indentation and line endings kept, the rest byte-identical, LSP ranges exact;
and how replies become edits (types inserted next to their parameters, code
re-indented, the project's test-file convention)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.actions.annotate import find_python, find_return_type, plan_python, plan_return_type
from edgewise.actions.base import ActionContext, RenderError, Workspace
from edgewise.actions.codeblock import extract_code, indent_unit, reindent
from edgewise.actions.edits import FileEdit, TextChange, check_edit
from edgewise.actions.test_files import js_test_file, python_test_file
from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry
from edgewise.context.positions import LineIndex, Pos
from edgewise.context.prompt import split_lines

LANGUAGES = LanguageRegistry()
PY = LANGUAGES.get("python")


def context(text: str, line: int, column: int, language: str = "python") -> ActionContext:
    doc = DocumentStore(LANGUAGES).open(f"file:///w/x.{language[:2]}", text, language)
    index = LineIndex(text, "utf-16")
    offset = index.offset(Pos(line, column))
    at = len(text[:offset].encode("utf-8"))
    return ActionContext(doc, at, at)


def edit(before: str, start: int, end: int, new: str, **extra: object) -> FileEdit:
    return FileEdit(
        uri="file:///w/x.py",
        before=before,
        main=TextChange(start, end, new),
        claimed=(start, end),
        language=PY,
        **extra,  # type: ignore[arg-type]
    )


SOURCE = "import os\n\n\ndef f(a):\n    return a\n"


def test_an_edit_inside_its_range_passes():
    at = SOURCE.index("    return")
    assert check_edit(edit(SOURCE, at, at, '    """Doc."""\n')) is None


def test_an_edit_reaching_outside_its_claimed_range_is_refused():
    at = SOURCE.index("    return")
    bad = FileEdit(
        uri="file:///w/x.py",
        before=SOURCE,
        main=TextChange(at - 3, at, "x"),
        claimed=(at, at),
        language=PY,
    )
    assert check_edit(bad) == "the edit reaches outside the range it claims"


def test_only_whole_import_lines_may_go_outside_the_range():
    at = SOURCE.index("    return")
    top = SOURCE.index("\n") + 1
    ok = edit(
        SOURCE,
        at,
        at,
        '    """Doc."""\n',
        imports=TextChange(top, top, "import re\n"),
        import_offset=top,
    )
    assert check_edit(ok) is None
    code = edit(
        SOURCE,
        at,
        at,
        '    """Doc."""\n',
        imports=TextChange(top, top, "x = 1\n"),
        import_offset=top,
    )
    assert "not imports" in (check_edit(code) or "")
    midline = edit(
        SOURCE, at, at, '    """Doc."""\n', imports=TextChange(3, 3, "import re\n"), import_offset=3
    )
    assert "not imports" in (check_edit(midline) or "")


def test_line_endings_and_indentation_are_checked():
    crlf = SOURCE.replace("\n", "\r\n")
    at = crlf.index("    return")
    assert check_edit(edit(crlf, at, at, '    """Doc."""\r\n')) is None
    assert "CRLF" in (check_edit(edit(crlf, at, at, '    """Doc."""\n')) or "")
    assert "CR line endings" in (check_edit(edit(SOURCE, 0, 0, "# x\r\n")) or "")
    at = SOURCE.index("    return")
    assert "indentation" in (check_edit(edit(SOURCE, at, at, '  """Doc."""\n')) or "")
    tabs = "def f(a):\n\treturn a\n"
    at = tabs.index("\treturn")
    assert "indentation" in (check_edit(edit(tabs, at, at, '    """Doc."""\n')) or "")
    assert check_edit(edit(tabs, at, at, '\t"""Doc."""\n')) is None


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_lsp_ranges_map_back_exactly_past_wide_characters(encoding: str):
    text = "s = '😀 é'\ndef f(a):\n    return a  # ü😀\n"
    at = text.index("    return")
    change = edit(text, at, at + len("    return a"), "    return a + 1")
    assert check_edit(change, encoding) is None
    ((start, end, new),) = change.positions(encoding)
    assert (start.line, end.line) == (2, 2) and new == "    return a + 1"
    assert change.after == text.replace("return a  #", "return a + 1  #")


def test_an_edit_that_changes_nothing_is_not_offered():
    at = SOURCE.index("return a")
    assert check_edit(edit(SOURCE, at, at + 8, "return a")) == "the edit changes nothing"


def test_lines_split_only_where_lsp_splits_them():
    assert split_lines("a\x0cb\r\nc\rd\n") == ["a\x0cb\r\n", "c\r", "d\n", ""]
    index = LineIndex("x = 1\x0c\ny = 2\n", "utf-16")
    assert index.position(8) == Pos(1, 1), "a form feed is not a line break in LSP"


def test_code_is_extracted_and_reindented_with_the_files_own_step():
    reply = "Here you go:\n```python\ndef g():\n  if x:\n    return 1\n```\nDone."
    code = extract_code(reply)
    assert code == "def g():\n  if x:\n    return 1"
    assert indent_unit(code) == "  "
    assert reindent(code, "    ", "    ") == "    def g():\n        if x:\n            return 1"
    assert reindent(code, "\t", "\t") == "\tdef g():\n\t\tif x:\n\t\t\treturn 1"


def test_python_types_are_inserted_next_to_their_parameters_with_imports():
    text = "import os\n\n\nclass C:\n    def f(self, path, depth=2, *rest, **named):\n        return path\n"
    ctx = context(text, 4, 10)
    target = find_python(ctx)
    assert target is not None and target.fields["missing"] == "path, depth, rest, named, return"
    plan = plan_python(ctx, target)
    assert plan is not None
    reply = (
        "```python\ndef f(self, path: str, deep: int = 2, *rest: Any, **named: Optional[int])"
        " -> List[str]:\n```"
    )
    rendered = plan.render(reply)
    assert text[plan.start : plan.end] == "(self, path, depth=2, *rest, **named):"
    assert rendered.text == (
        "(self, path: str, depth=2, *rest: Any, **named: Optional[int]) -> List[str]:"
    ), "a renamed parameter gets nothing; the others keep their names and defaults"
    assert rendered.imports == "from typing import Any, List, Optional\n"
    assert plan.import_offset == len("import os\n")
    with pytest.raises(RenderError):
        plan.render("```python\nprint('no signature')\n```")


def test_a_typescript_return_type_is_inserted_after_the_parameters():
    text = "export function size(items: string[]) {\n  return items.length;\n}\n"
    ctx = context(text, 0, 17, "typescript")
    target = find_return_type(ctx)
    assert target is not None
    plan = plan_return_type(ctx, target)
    assert plan is not None and plan.start == plan.end == text.index(") {") + 1
    assert plan.render("```typescript\nnumber\n```").text == ": number"
    assert (
        plan.render("```typescript\n: Map<string, number[]>;\n```").text
        == ": Map<string, number[]>"
    )
    with pytest.raises(RenderError):
        plan.render("```typescript\nreturn items.length;\n```")


def test_the_test_file_follows_the_project(tmp_path: Path):
    src = tmp_path / "pkg"
    src.mkdir()
    (src / "__init__.py").write_text("")
    (src / "shapes.py").write_text("def f():\n    pass\n")
    choice = python_test_file(tmp_path, src / "shapes.py")
    assert (choice.path, choice.exists) == (src / "test_shapes.py", False), "no tests/: beside it"
    (tmp_path / "tests").mkdir()
    choice = python_test_file(tmp_path, src / "shapes.py")
    assert choice.path == tmp_path / "tests" / "test_shapes.py"
    (tmp_path / "tests" / "shapes_test.py").write_text("")
    choice = python_test_file(tmp_path, src / "shapes.py")
    assert (choice.path, choice.exists) == (tmp_path / "tests" / "shapes_test.py", True)

    web = tmp_path / "web"
    web.mkdir()
    (web / "util.ts").write_text("export const x = 1;\n")
    (web / "other.spec.ts").write_text("")
    (tmp_path / "package.json").write_text('{"devDependencies": {"vitest": "^1"}}')
    choice = js_test_file(tmp_path, web / "util.ts")
    assert (choice.path, choice.exists, choice.framework) == (web / "util.spec.ts", False, "vitest")


def test_a_test_file_outside_the_workspace_is_never_chosen(tmp_path: Path):
    inside = tmp_path / "inside"
    (inside / "tests").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (inside / "tests").rmdir()
    (inside / "tests").symlink_to(outside, target_is_directory=True)
    workspace = Workspace((inside,))
    assert workspace.root_of(inside / "tests" / "test_x.py") is None
    assert workspace.root_of(inside / "x.py") == inside.resolve()
