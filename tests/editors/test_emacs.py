"""editors/emacs/edgewise-eglot.el in a real Emacs (28+, eglot) in batch mode, against the
real `edgewise serve` on the tiny model: completion-at-point inserts the model's text and
the report diagnostic arrives through Flymake."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from edgewise.schemas import load_schema

from tests.editors.conftest import (
    ROOT,
    SETUP_HINT,
    editor_env,
    find_tool,
    make_project,
    read_json,
    run_editor,
)

SNIPPET = ROOT / "editors" / "emacs" / "edgewise-eglot.el"
DRIVER = Path(__file__).resolve().parent / "emacs" / "driver.el"


@pytest.fixture(scope="module")
def emacs() -> str:
    found = find_tool("emacs")
    if found is None:
        pytest.fail(f"emacs is not installed (Debian: emacs-nox elpa-eglot); {SETUP_HINT}")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    major = int(re.match(r"GNU Emacs (\d+)", version.stdout)[1])
    assert major >= 28, version.stdout.splitlines()[0]
    probe = subprocess.run(
        [found, "--batch", "-q", "--eval", "(progn (package-initialize) (require 'eglot))"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.fail(f"eglot is not installed (Debian: elpa-eglot); {SETUP_HINT}\n{probe.stderr}")
    return found


def test_completion_inserts_model_text_and_report_reaches_flymake(emacs, tiny_model, tmp_path):
    project = make_project(tmp_path / "project")
    out = tmp_path / "result.json"
    env = editor_env(tmp_path)
    env.update(
        EDGEWISE_SNIPPET=str(SNIPPET),
        EDGEWISE_PYTHON=sys.executable,
        EDGEWISE_MODEL=str(tiny_model),
        EDGEWISE_FILE=str(project / "files.py"),
        EDGEWISE_OUT=str(out),
    )
    finished = run_editor([emacs, "--batch", "-q", "-l", str(DRIVER)], env, project, timeout=300)
    result = read_json(out, finished)
    assert "error" not in result, (result["error"], finished.stderr[-3000:])
    assert finished.returncode == 0

    assert result["mode"] == "python-mode" and result["server"] == "edgewise"
    assert result["capf"][0] == "edgewise-eglot-completion-at-point"
    # completion-at-point inserted exactly the model's text that the server offers there
    assert result["expected"], "the server offered a completion"
    assert result["inserted"] == result["expected"]

    diagnostics = result["diagnostics"]
    assert diagnostics, "the report diagnostic arrived in Flymake"
    diag = diagnostics[0]
    # Flymake shows the source and code, then the report: how sure first, then the cost
    text = diag["text"]
    assert text.startswith("edgewise [completion:completion]: "), text
    assert text.split(": ", 1)[1].startswith(("model's confidence: ", "likely right: ")), text
    assert " prompt + " in text and "at cloud prices" in text, text
    assert diag["type"] == "eglot-note"
    report = diag["data"]
    jsonschema.validate(report, load_schema("report"))
    assert report["model"]["path"] == str(tiny_model), "initializationOptions were kept"
    assert report["range"]["start"] == {"line": result["line"] - 1, "character": result["column"]}
    assert result["diagnostic_region"] == result["inserted"], "the diagnostic covers the text"
    assert result["cost"]["requests"] >= 2


@pytest.mark.parametrize("page", ["README.md", "docs/emacs.md"])
def test_docs_emacs_setup_uses_the_tested_snippet(page: str):
    text = (ROOT / page).read_text("utf-8")
    blocks = re.findall(r"```elisp\n(.*?)```", text, re.DOTALL)
    assert blocks, f"{page} shows the Emacs setup"
    defined = set(re.findall(r"\(defvar (edgewise-[\w-]+)", SNIPPET.read_text("utf-8")))
    for code in blocks:
        assert "editors/emacs/edgewise-eglot.el" in code
        used = set(re.findall(r"\b(edgewise-eglot-[\w-]+)", code))
        assert used and used <= defined, used - defined
