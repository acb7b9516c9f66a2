"""The gates with a remote backend that returns a crafted reply (an OpenAI-compatible
server on 127.0.0.1, tests/remote/misbehaving.py): through LSP code actions and through
`edgewise refactor`. Ruff, tree-sitter and the batch run are real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pytest_lsp import LanguageClient

from edgewise.batch.records import Validators
from edgewise.schemas import load_schema
from tests.lsp.action_checks import actions_at, resolved, titled
from tests.lsp.editor import make_workspace, start_editor
from tests.remote.misbehaving import MisbehavingServer
from tests.remote.test_remote_lsp import SERVER_ENV, remote_options

CALC = "def area(width, height):\n    return width * height\n"
UNDEFINED = "def area(width, height):\n    return multiply(width, height)\n```\n"
CHECKED = 'def ratio(a, b):\n    assert b != 0, "b must not be zero"\n    return a / b\n'
NO_ASSERT = "def ratio(a, b):\n    return a / b\n```\n"
TEST_FILE = "from calc import area\n\n\ndef test_area():\n    assert area(2, 3) == 6\n"


@pytest.fixture
async def lsp():
    from pytest_lsp.client import make_test_lsp_client

    client = make_test_lsp_client()
    yield client
    if client._server is not None and client._server.returncode is None:
        await client.shutdown_session()
    await client.stop()


async def test_remote_reply_with_an_undefined_name_is_offered_disabled(
    lsp: LanguageClient, tmp_path: Path
):
    with MisbehavingServer("replies", replies=[UNDEFINED]) as server:
        await lsp.start_io(sys.executable, "-m", "edgewise.cli", "serve", env=SERVER_ENV)
        root = make_workspace(tmp_path / "project")
        editor = await start_editor(lsp, "neovim", remote_options(server.url), root)
        uri = editor.open("geometry.py", "python")
        action = titled(await actions_at(lsp, uri, 3, 5), "Simplify (edgewise)")
        action = await resolved(lsp, action)
        assert server.generations == 2, "regenerated once with the checker's message"
    assert action.edit is None and action.disabled is not None
    assert "line 5: F821 Undefined name `multiply` (ruff)" in action.disabled.reason
    report = action.data["report"]
    jsonschema.validate(report, load_schema("report"))
    assert report["model"]["backend"].startswith("remote")
    assert report["verified"]["gate"] == "checks"


def refactor(project: Path, url: str, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    report = project.parent / f"report-{len(list(project.parent.glob('report-*')))}.jsonl"
    env = {
        **os.environ,
        "EDGEWISE_STATE_DIR": str(project.parent / "state"),
        "XDG_CACHE_HOME": str(project.parent / "state" / "cache"),
    }
    command = [sys.executable, "-m", "edgewise.cli", "refactor", str(project), "--backend", url]
    done = subprocess.run(
        [*command, "--report", str(report), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [json.loads(line) for line in report.read_text("utf-8").splitlines() if line.strip()]
    validators = Validators()
    for line in lines:
        (validators.summary if line["kind"] == "summary" else validators.record).validate(line)
    return done.returncode, lines, done.stderr


def project_with(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return root


def test_batch_refuses_an_edit_with_new_checker_problems(tmp_path: Path):
    project = project_with(tmp_path, {"calc.py": CALC})
    with MisbehavingServer("replies", replies=[UNDEFINED]) as server:
        code, lines, stderr = refactor(project, server.url, "--action", "simplify", "--apply")
    assert code == 1, stderr
    record, summary = lines[0], lines[-1]
    assert record["outcome"] == "rejected-by-checkers"
    assert "F821 Undefined name `multiply` (ruff)" in record["reason"]
    assert "multiply" in record["diff"], "the refused text stays in the record for review"
    assert summary["outcomes"] == {"rejected-by-checkers": 1}
    assert (project / "calc.py").read_text("utf-8") == CALC, "nothing was written"


def test_batch_refuses_a_deleted_assert_unless_allowed(tmp_path: Path):
    project = project_with(tmp_path, {"checked.py": CHECKED})
    with MisbehavingServer("replies", replies=[NO_ASSERT]) as server:
        code, lines, _ = refactor(project, server.url, "--action", "simplify", "--apply")
        assert code == 1
        assert lines[0]["outcome"] == "rejected-by-test-guard"
        assert "removes or changes the check `assert b != 0" in lines[0]["reason"]
        assert (project / "checked.py").read_text("utf-8") == CHECKED

        code, lines, stderr = refactor(
            project, server.url, "--action", "simplify", "--apply", "--allow-test-changes"
        )
    assert code == 0, stderr
    assert lines[0]["outcome"] == "applied"
    assert lines[0]["verified"]["tests"]["allowed"] is True
    assert "assert" not in (project / "checked.py").read_text("utf-8")


def test_batch_refuses_a_docstring_in_a_test_file(tmp_path: Path):
    project = project_with(tmp_path, {"calc.py": CALC, "tests/test_calc.py": TEST_FILE})
    reply = "Checks the area of a rectangle.```\n"
    with MisbehavingServer("replies", replies=[reply]) as server:
        code, lines, _ = refactor(project, server.url, "--action", "docstring")
    outcomes = {r["target"]["file"]: r["outcome"] for r in lines if r["kind"] == "action"}
    assert outcomes == {"calc.py": "proposed", "tests/test_calc.py": "rejected-by-test-guard"}
    refused = next(r for r in lines if r.get("target", {}).get("file") == "tests/test_calc.py")
    assert "changes the test file test_calc.py" in refused["reason"]
    assert code == 1


def test_batch_checks_each_edit_together_with_the_others_in_its_file(tmp_path: Path):
    # each edit alone leaves `os` used by the other function; together they leave it unused
    module = (
        "import os\n\n\ndef here():\n    return os.getcwd()\n\n\ndef sep():\n    return os.sep\n"
    )
    project = project_with(tmp_path, {"paths.py": module})
    replies = ['def here():\n    return "."\n```\n', 'def sep():\n    return "/"\n```\n']
    with MisbehavingServer("replies", replies=replies) as server:
        code, lines, stderr = refactor(project, server.url, "--action", "simplify", "--apply")
    outcomes = {r["target"]["symbol"]: r for r in lines if r["kind"] == "action"}
    assert outcomes["here"]["outcome"] == "applied", stderr
    refused = outcomes["sep"]
    assert refused["outcome"] == "rejected-by-checkers"
    assert refused["reason"].startswith("together with the other edits in this file, ")
    assert "line 1: F401" in refused["reason"] and "`os` imported but unused" in refused["reason"]
    assert refused["verified"]["gate"] == "checks"
    written = (project / "paths.py").read_text("utf-8")
    assert 'return "."' in written and "return os.sep" in written
    assert code == 1
