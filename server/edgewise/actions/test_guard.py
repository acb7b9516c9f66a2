"""The test guard: an edit may not weaken the checks a project has.

Both texts of the edited file are parsed with tree-sitter and their checks compared:
``assert`` statements, ``self.assert*`` / ``mock.assert_*`` calls, ``pytest.raises`` /
``pytest.warns``, ``expect(...)`` and ``assert(...)`` statements, and test functions
(``def test_*``, ``it(...)`` / ``test(...)``). An edit that removes or changes one of
them, that adds a skip (``skip``, ``skipif``, ``xfail``, ``skipTest``, ``.skip``,
``.only``, ``xit``, ...), that changes a test file when the action does not write tests,
or -- for "Generate a unit test" -- that changes anything but adds, is refused unless the
user allows test changes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from edgewise.actions.edits import TextChange
from edgewise.context.languages import LanguageInfo
from edgewise.report.record import TestGuard

TEST_WRITING_ACTIONS = frozenset({"test"})
PY_SKIPS = frozenset(
    {
        "skip",
        "skipif",
        "xfail",
        "skipIf",
        "skipUnless",
        "expectedFailure",
        "skipTest",
        "importorskip",
    }
)
PY_RAISES = frozenset({"raises", "warns", "deprecated_call", "assertRaises", "assertWarns"})
JS_TEST_CALLS = frozenset({"it", "test"})
JS_SUITES = frozenset({"it", "test", "describe", "context", "suite"})
JS_FOCUS_SKIP = frozenset({"only", "skip", "todo", "fixme"})
JS_X_CALLS = frozenset({"xit", "xtest", "xdescribe", "fit", "fdescribe", "ftest"})
JS_TEST_FILE = re.compile(r"\.(test|spec)\.[mc]?[jt]sx?$")
SHOWN = 3  # findings named in the reason (all are in the report)


@dataclass(frozen=True)
class Check:
    """A check (or a skip) found in a text: its kind, what identifies it, its line."""

    kind: str  # assert | test | skip
    key: str
    line: int


@dataclass(frozen=True)
class GuardVerdict:
    findings: tuple[str, ...] = ()
    allowed: bool = False

    @property
    def refused(self) -> str | None:
        """Why the edit is refused (None: it weakens nothing, or that is allowed)."""
        if not self.findings or self.allowed:
            return None
        shown = "; ".join(self.findings[:SHOWN])
        more = f"; and {len(self.findings) - SHOWN} more" if len(self.findings) > SHOWN else ""
        return f"the edit weakens the tests: {shown}{more} (allow with `allowTestChanges`)"

    def facts(self) -> TestGuard:
        """The report's ``verified.tests``."""
        return TestGuard(ok=not self.findings, allowed=self.allowed, findings=list(self.findings))


def is_test_file(path: Path | None) -> bool:
    """A file of the project's tests, by the conventions pytest and JS runners use."""
    if path is None:
        return False
    name = path.name
    if name.endswith(".py"):
        return (
            name.startswith("test_")
            or name.endswith("_test.py")
            or name == "conftest.py"
            or any(part in ("tests", "test") for part in path.parent.parts[-3:])
        )
    return bool(JS_TEST_FILE.search(name)) or "__tests__" in path.parts


def guard_edit(
    language: LanguageInfo | None,
    path: Path | None,
    action_id: str,
    before: str,
    after: str,
    changes: list[TextChange],
    allow: bool,
) -> GuardVerdict:
    """What the edit does to the file's checks (see the module's docstring)."""
    findings: list[str] = []
    writes_tests = action_id in TEST_WRITING_ACTIONS
    if path is not None and is_test_file(path) and not writes_tests and before:
        findings.append(
            f"it changes the test file {path.name} (the action '{action_id}' does not write tests)"
        )
    if writes_tests and any(c.start != c.end for c in changes):
        findings.append("'Generate a unit test' may only add, and this edit changes existing lines")
    if language is not None:
        old, new = checks_in(language, before), checks_in(language, after)
        findings.extend(removed_checks(old, new))
        findings.extend(added_skips(old, new))
    return GuardVerdict(tuple(findings), allow)


def removed_checks(old: list[Check], new: list[Check]) -> list[str]:
    left = Counter((c.kind, c.key) for c in new if c.kind != "skip")
    found = []
    for check in old:
        if check.kind == "skip":
            continue
        if left[(check.kind, check.key)] > 0:
            left[(check.kind, check.key)] -= 1
            continue
        what = "the test function" if check.kind == "test" else "the check"
        found.append(f"it removes or changes {what} `{_short(check.key)}` (line {check.line})")
    return found


def added_skips(old: list[Check], new: list[Check]) -> list[str]:
    had = Counter(c.key for c in old if c.kind == "skip")
    found = []
    for check in new:
        if check.kind != "skip":
            continue
        if had[check.key] > 0:
            had[check.key] -= 1
            continue
        found.append(f"it adds `{check.key}` (line {check.line})")
    return found


def checks_in(language: LanguageInfo, text: str) -> list[Check]:
    tree = language.parser().parse(text.encode("utf-8", "surrogatepass"))
    found: list[Check] = []
    python = language.name == "python"
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        check = _python_check(node) if python else _js_check(node)
        if check is not None:
            found.append(check)
        stack.extend(reversed(node.children))
    return found


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _line(node: Node) -> int:
    return node.start_point[0] + 1


def _last_name(node: Node) -> str:
    """The last name of a dotted expression (``pytest.mark.skip`` -> ``skip``)."""
    return _text(node).rsplit(".", 1)[-1].strip()


def _python_check(node: Node) -> Check | None:
    kind = node.type
    if kind == "assert_statement":
        return Check("assert", _norm(_text(node)), _line(node))
    if kind == "function_definition":
        name = _text(node.child_by_field_name("name"))
        if name.startswith("test"):
            return Check("test", f"def {name}", _line(node))
        return None
    if kind == "call":
        function = node.child_by_field_name("function")
        if function is None or function.type not in ("identifier", "attribute"):
            return None
        name = _last_name(function)
        if name in PY_SKIPS:
            return Check("skip", _text(function), _line(node))
        if name.startswith("assert") or name in PY_RAISES:
            return Check("assert", _norm(_text(node)), _line(node))
        return None
    if kind == "decorator":
        expression = node.named_children[0] if node.named_children else None
        if expression is not None and expression.type in ("identifier", "attribute"):
            if _last_name(expression) in PY_SKIPS:
                return Check("skip", _text(expression), _line(node))
    return None


def _statement_of(node: Node) -> Node:
    """The statement a check's call is part of (``expect(x).toBe(3);``)."""
    current = node
    while current.parent is not None and current.parent.type not in (
        "expression_statement",
        "statement_block",
        "program",
        "arguments",
    ):
        current = current.parent
    if current.parent is not None and current.parent.type == "expression_statement":
        return current.parent
    return current


def _js_check(node: Node) -> Check | None:
    if node.type != "call_expression":
        return None
    function = node.child_by_field_name("function")
    if function is None:
        return None
    if function.type == "identifier":
        name = _text(function)
        if name in ("expect", "assert"):
            return Check("assert", _norm(_text(_statement_of(node))), _line(node))
        if name in JS_X_CALLS:
            return Check("skip", name, _line(node))
        if name in JS_TEST_CALLS:
            arguments = node.child_by_field_name("arguments")
            first = arguments.named_children[0] if arguments and arguments.named_children else None
            return Check("test", f"{name}({_text(first)})", _line(node))
        return None
    if function.type == "member_expression":
        target = function.child_by_field_name("object")
        prop = _text(function.child_by_field_name("property"))
        base = _text(target)
        if base == "assert":
            return Check("assert", _norm(_text(_statement_of(node))), _line(node))
        if base in JS_SUITES and prop in JS_FOCUS_SKIP:
            return Check("skip", f"{base}.{prop}", _line(node))
    return None
