"""The checkers gate with the real npm-packaged checkers (ESLint, TypeScript, pyright), as
a project has them in its node_modules (installed by scripts/setup-checkers)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from edgewise.actions.checkers import Checkers

REPO = Path(__file__).resolve().parents[2]
INSTALLED = Path(os.environ.get("EDGEWISE_CHECKERS", REPO / ".cache" / "checkers"))
ESLINT_CONFIG = """export default [
  {
    files: ["**/*.js"],
    languageOptions: { sourceType: "module", globals: { console: "readonly" } },
    rules: { "no-undef": "error", "no-unused-vars": "warn" },
  },
];
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    modules = INSTALLED / "node_modules"
    if not (modules / ".bin" / "eslint").exists():
        pytest.fail(
            f"ESLint and TypeScript are not installed in {INSTALLED}: run scripts/setup-checkers"
        )
    root = tmp_path / "web"
    root.mkdir()
    (root / "node_modules").symlink_to(modules, target_is_directory=True)
    (root / "eslint.config.mjs").write_text(ESLINT_CONFIG)
    (root / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": {"strict": True, "noEmit": True}})
    )
    (root / "math.ts").write_text(
        "export function add(a: number, b: number): number {\n  return a + b;\n}\n"
    )
    return root


def check(root: Path, name: str, language: str, before: str, after: str, tools: tuple[str, ...]):
    path = root / name
    path.write_text(before)
    return asyncio.run(Checkers().check(path, root, language, before, after, tools, 60.0))


def test_eslint_reports_the_undefined_name_an_edit_adds(project: Path):
    before = "export function total(items) {\n  return items.length;\n}\n"
    after = "export function total(items) {\n  return count(items);\n}\n"
    outcome = check(project, "cart.js", "javascript", before, after, ("eslint",))
    (run,) = outcome.runs
    assert run.status == "ran", run.detail
    assert run.version == "9.39.1"
    assert [(p.line, p.rule) for p in run.new] == [(2, "no-undef")]
    assert "line 2: no-undef 'count' is not defined. (eslint)" in (outcome.problem or "")


def test_tsc_checks_the_edit_against_the_project_and_its_imports(project: Path):
    before = 'import { add } from "./math";\n\nexport const total: number = add(1, 2);\n'
    after = 'import { add } from "./math";\n\nexport const total: number = add(1, "2");\n'
    outcome = check(project, "cart.ts", "typescript", before, after, ("eslint", "tsc"))
    runs = {r.tool: r for r in outcome.runs}
    tsc = runs["tsc"]
    assert tsc.status == "ran", tsc.detail
    assert tsc.version == "5.9.3" and tsc.problems_before == 0
    assert [(p.line, p.rule) for p in tsc.new] == [(3, "TS2345")], (
        "the import resolved: add's types"
    )
    assert (project / "cart.ts").read_text() == before, "the edited text never touches the disk"
    fine = check(project, "cart.ts", "typescript", before, before.replace("1, 2", "2, 1"), ("tsc",))
    assert fine.problem is None


def test_pyright_runs_when_configured_and_resolves_the_projects_imports(project: Path):
    (project / "helpers.py").write_text("def scale(x: int) -> int:\n    return x * 2\n")
    before = (
        "from helpers import scale\n\n\ndef area(w: int, h: int) -> int:\n    return scale(w) * h\n"
    )
    after = before.replace("scale(w) * h", "scale(str(w)) * h")
    unconfigured = check(project, "geo.py", "python", before, after, ("pyright",))
    assert unconfigured.runs[0].status == "not-configured"
    (project / "pyrightconfig.json").write_text("{}")
    outcome = check(project, "geo.py", "python", before, after, ("pyright",))
    (run,) = outcome.runs
    assert run.status == "ran", run.detail
    assert run.version == "pyright 1.1.414" and run.problems_before == 0
    assert [(p.line, p.rule) for p in run.new] == [(5, "reportArgumentType")]
