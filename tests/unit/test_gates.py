"""The checkers gate and the test guard on crafted edits, with the real tools (ruff and
mypy from the environment, tree-sitter), and the agreement between samples."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from edgewise.actions.agreement import agreement, agrees, sample_seeds, tree_signature
from edgewise.actions.checkers import Checkers, python_tool
from edgewise.actions.edits import TextChange
from edgewise.actions.test_guard import guard_edit, is_test_file
from edgewise.context.languages import LanguageRegistry

LANGUAGES = LanguageRegistry()
_PY = LANGUAGES.for_document("a.py")
assert _PY is not None
PY = _PY
TS = LANGUAGES.for_document("a.ts")
BEFORE = "import math\n\n\ndef area(width, height):\n    return width * height\n"
UNDEFINED = BEFORE.replace("width * height", "multiply(width, height)")


def check(root: Path, before: str, after: str, tools=("ruff",), timeout=30.0, checkers=None):
    path = root / "geometry.py"
    path.write_text(before, "utf-8")
    checkers = checkers or Checkers()
    return asyncio.run(checkers.check(path, root, "python", before, after, tools, timeout))


def test_ruff_finds_the_undefined_name_the_edit_adds_and_not_the_old_problems(tmp_path: Path):
    # `math` is unused before and after: an old problem is not the edit's
    outcome = check(tmp_path, BEFORE, UNDEFINED)
    (run,) = outcome.runs
    assert run.tool == "ruff" and run.status == "ran" and run.version.startswith("ruff ")
    assert (run.problems_before, run.problems_after) == (1, 2)
    assert [(p.line, p.rule) for p in run.new] == [(5, "F821")]
    assert outcome.problem == (
        "the project's checkers report 1 new problem(s): "
        "line 5: F821 Undefined name `multiply` (ruff)"
    )


def test_an_edit_that_removes_a_problem_passes(tmp_path: Path):
    outcome = check(tmp_path, UNDEFINED, BEFORE)
    assert outcome.problem is None
    assert outcome.runs[0].problems_after == 1 and outcome.summary() == "checked with ruff"


def test_results_are_cached_by_content(tmp_path: Path):
    checkers = Checkers()
    first = check(tmp_path, BEFORE, UNDEFINED, checkers=checkers)
    started = checkers.runs
    again = check(tmp_path, BEFORE, UNDEFINED, checkers=checkers)
    assert started == 2 and checkers.runs == 2, "no new ruff process for the same texts"
    assert again.runs[0].cached and not first.runs[0].cached
    assert again.problem == first.problem
    third = check(
        tmp_path, BEFORE, BEFORE.replace("width * height", "height * width"), checkers=checkers
    )
    assert checkers.runs == 3 and third.problem is None, "the before text came from the cache"


def test_mypy_runs_only_when_the_project_configures_it(tmp_path: Path):
    typed_before = "def area(width: int, height: int) -> int:\n    return width * height\n"
    typed_after = 'def area(width: int, height: int) -> int:\n    return "wide"\n'
    outcome = check(tmp_path, typed_before, typed_after, tools=("mypy",))
    assert [(r.tool, r.status) for r in outcome.runs] == [("mypy", "not-configured")]
    assert outcome.problem is None
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nwarn_unused_ignores = true\n")
    outcome = check(tmp_path, typed_before, typed_after, tools=("mypy",), timeout=120)
    (run,) = outcome.runs
    assert run.status == "ran", run.detail
    assert [(p.line, p.rule) for p in run.new] == [(2, "return-value")]
    assert not (tmp_path / ".mypy_cache").exists(), "nothing is written in the workspace"


def test_a_slow_checker_is_reported_as_timed_out_and_does_not_block(tmp_path: Path):
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    slow = venv_bin / "ruff"  # the project's own ruff, which hangs
    slow.write_text(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'ruff 0.0.0'; exit 0; fi\nsleep 30\n"
    )
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    assert python_tool("ruff", tmp_path / "geometry.py", tmp_path) == slow
    outcome = check(tmp_path, BEFORE, UNDEFINED, timeout=0.5)
    (run,) = outcome.runs
    assert run.status == "timed-out" and run.version == "ruff 0.0.0"
    assert run.ms < 5000 and "500 ms" in run.detail
    assert outcome.problem is None and "ruff timed-out" in outcome.summary()


def test_javascript_checkers_not_in_the_project_are_reported_not_installed(tmp_path: Path):
    path = tmp_path / "cart.ts"
    text = "export const total = (a: number) => a;\n"
    path.write_text(text)
    outcome = asyncio.run(
        Checkers().check(
            path, tmp_path, "typescript", text, text + "\n", ("ruff", "eslint", "tsc"), 5
        )
    )
    assert [(r.tool, r.status) for r in outcome.runs] == [
        ("eslint", "not-installed"),
        ("tsc", "not-installed"),
    ]


# --- the test guard -------------------------------------------------------------------

MODULE = 'def ratio(a, b):\n    assert b != 0, "b must not be zero"\n    return a / b\n'
TESTS = (
    "import pytest\n\nfrom calc import ratio\n\n\n"
    "def test_ratio():\n    assert ratio(6, 3) == 2\n\n\n"
    "def test_zero():\n    with pytest.raises(AssertionError):\n        ratio(1, 0)\n"
)
EDIT = [TextChange(0, 1, "x")]


def guard(before, after, path="calc.py", action="simplify", changes=EDIT, allow=False, lang=PY):
    return guard_edit(lang, Path("/p") / path, action, before, after, changes, allow)


def test_a_deleted_or_loosened_assert_is_refused():
    deleted = guard(MODULE, MODULE.replace('    assert b != 0, "b must not be zero"\n', ""))
    assert deleted.refused is not None
    assert (
        'removes or changes the check `assert b != 0, "b must not be zero"` (line 2)'
        in deleted.refused
    )
    loosened = guard(MODULE, MODULE.replace("b != 0", "b is not None"))
    assert loosened.refused is not None
    reformatted = guard(MODULE, MODULE.replace("b != 0", "b  !=  0"))
    assert reformatted.refused is None, "whitespace is not a change of the check"


def test_a_removed_raises_or_test_function_and_an_added_skip_are_refused():
    no_raises = TESTS.replace(
        "    with pytest.raises(AssertionError):\n        ratio(1, 0)\n", "    ratio(1, 1)\n"
    )
    assert "pytest.raises(AssertionError)" in (
        guard(TESTS, no_raises, "test_calc.py", "test").refused or ""
    )
    no_test = TESTS.split("\n\ndef test_zero")[0] + "\n"
    assert "the test function `def test_zero`" in (
        guard(TESTS, no_test, "test_calc.py", "test").refused or ""
    )
    for skip in (
        "@pytest.mark.skip\n",
        '@pytest.mark.xfail(reason="flaky")\n',
        "@pytest.mark.skipif(True, reason='x')\n",
    ):
        skipped = TESTS.replace("def test_zero", skip + "def test_zero")
        verdict = guard(
            TESTS, skipped, "test_calc.py", "test", [TextChange(len(TESTS), len(TESTS), "")]
        )
        assert verdict.refused is not None and "it adds `pytest.mark." in verdict.refused
    in_body = TESTS.replace(
        "    assert ratio(6, 3) == 2\n", '    pytest.skip("later")\n    assert ratio(6, 3) == 2\n'
    )
    assert "it adds `pytest.skip`" in (guard(TESTS, in_body, "test_calc.py", "test").refused or "")


def test_test_files_change_only_through_the_test_action_and_it_only_adds():
    appended = TESTS + "\n\ndef test_one():\n    assert ratio(1, 1) == 1\n"
    end = len(TESTS)
    assert (
        guard(TESTS, appended, "tests/test_calc.py", "test", [TextChange(end, end, "x")]).refused
        is None
    )
    docstring = TESTS.replace("def test_ratio():\n", 'def test_ratio():\n    """Ratio."""\n')
    refused = guard(TESTS, docstring, "tests/test_calc.py", "docstring").refused
    assert refused is not None and "changes the test file test_calc.py" in refused
    rewritten = guard(TESTS, appended, "tests/test_calc.py", "test", [TextChange(0, 5, "x")])
    assert "may only add" in (rewritten.refused or "")
    allowed = guard(TESTS, docstring, "tests/test_calc.py", "docstring", allow=True)
    assert allowed.refused is None and allowed.findings and allowed.facts().allowed


def test_javascript_expect_only_and_skip():
    spec = 'describe("cart", () => {\n  it("adds", () => {\n    expect(add(1, 2)).toBe(3);\n  });\n});\n'
    loosened = guard(spec, spec.replace("toBe(3)", "toBeDefined()"), "cart.ts", lang=TS)
    assert "expect(add(1, 2)).toBe(3);" in (loosened.refused or "")
    focused = guard(spec, spec.replace('it("adds"', 'it.only("adds"'), "cart.ts", lang=TS)
    assert "it adds `it.only`" in (focused.refused or "")
    skipped = guard(spec, spec.replace("describe(", "describe.skip("), "cart.ts", lang=TS)
    assert "it adds `describe.skip`" in (skipped.refused or "")
    assert (
        guard(spec, spec.replace("add(1, 2)", "add(1,2)"), "cart.ts", lang=TS).refused is not None
    )


def test_test_file_names():
    for name in (
        "tests/test_a.py",
        "a_test.py",
        "pkg/tests/helpers.py",
        "conftest.py",
        "web/a.test.ts",
        "web/a.spec.jsx",
        "web/__tests__/a.js",
    ):
        assert is_test_file(Path("/p") / name), name
    for name in ("calc.py", "testing_utils.py", "web/cart.ts", "web/contest.js"):
        assert not is_test_file(Path("/p") / name), name


# --- agreement ------------------------------------------------------------------------


def test_agreement_by_text_or_tree_and_unsure_below_half():
    base = "def f(a):\n    return a + 1\n"
    assert agrees(PY, "return a + 1", base, "return  a +  1", base) == "text"
    commented = "def f(a):\n    # add one\n    return a+1\n"
    assert agrees(PY, "return a + 1", base, "# add one\nreturn a+1", commented) == "tree"
    other = "def f(a):\n    return a + 2\n"
    assert agrees(PY, "return a + 1", base, "return a + 2", other) is None
    assert agrees(PY, "x", base, None, None) is None
    assert tree_signature(PY, base) != tree_signature(PY, other)
    found = agreement(["text", None, None], 0.7, sample_seeds(42, 4))
    assert (found.samples, found.agreeing, found.unsure, found.seeds) == (4, 1, True, [43, 44, 45])
    assert not agreement(["tree", None], 0.7, [43, 44]).unsure


@pytest.mark.parametrize("tools", [(), ("mypy", "pyright")])
def test_no_tool_asked_for_or_none_configured_means_nothing_refused(tmp_path: Path, tools):
    outcome = check(tmp_path, BEFORE, UNDEFINED, tools=tools)
    assert outcome.problem is None
    assert all(r.status == "not-configured" for r in outcome.runs)


def test_mypy_checks_a_file_the_edit_creates(tmp_path: Path):
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    (tmp_path / "geometry.py").write_text("def area(w: int, h: int) -> int:\n    return w * h\n")
    new_test = tmp_path / "tests" / "test_geometry.py"
    text = 'from geometry import area\n\n\ndef test_area() -> None:\n    area("2", 3)\n'
    outcome = asyncio.run(Checkers().check(new_test, tmp_path, "python", "", text, ("mypy",), 120))
    (run,) = outcome.runs
    assert run.status == "ran", run.detail
    assert [(p.line, p.rule) for p in run.new] == [(5, "arg-type")], "the project's imports resolve"
    assert not new_test.exists()
