"""The VS Code status item shows the server's `notice` (for its `ms`) and `budget` (in the
tooltip; in the item, on a warning or error background, near or at the limit), the
fields of the shared `edgewise/status` contract. The extension's own status item and
session ledger (editors/vscode/src/statusBar.ts, ledger.ts), bundled with esbuild, run in
Node with the `vscode` API replaced by a recorder (tests/editors/vscode_unit/), fed
status notifications as the server sends them. The end-to-end test
(test_vscode.py) covers the rest of the status item in the real VS Code.

Needs Node.js and the extension's npm packages (`npm ci` in editors/vscode; run here
when they are missing)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
UNIT = Path(__file__).resolve().parent / "vscode_unit"

BUNDLE = """
require("esbuild").build({
  entryPoints: [process.argv[1]],
  outfile: process.argv[2],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  alias: { vscode: process.argv[3] },
  logLevel: "warning",
}).catch((error) => { console.error(error); process.exit(1); });
"""


def run(cmd: list[str], cwd: Path, timeout: float) -> str:
    env = {**os.environ, "npm_config_fund": "false", "npm_config_audit": "false"}
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join(cmd[:3])}` failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    return proc.stdout


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str | None]]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("the VS Code status test needs Node.js and npm", pytrace=False)
    if not (EXTENSION / "node_modules" / "esbuild").is_dir():
        run([npm, "ci", "--prefer-offline"], EXTENSION, 600)
    out = tmp_path_factory.mktemp("vscode-status") / "status.js"
    stub = UNIT / "vscode_stub.js"
    run([node, "-e", BUNDLE, str(UNIT / "status_driver.js"), str(out), str(stub)], EXTENSION, 120)
    lines = run([node, str(out)], ROOT, 60).strip().splitlines()
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def test_a_notice_shows_in_the_item_for_its_time_then_goes(shown):
    assert shown["plain"]["text"].startswith("edgewise · ")
    assert "saved vs cloud" in shown["plain"]["text"]
    notice = shown["notice"]
    assert notice["text"] == "$(eye-closed) edgewise · hidden: not sure enough (0.03)"
    assert "Just now: hidden: not sure enough (0.03)." in notice["tooltip"]
    # a later status without a notice does not cut it short ...
    assert "hidden: not sure enough" in shown["notice_still"]["text"]
    # ... and after its `ms` the usual text is back
    assert shown["after_notice"]["text"].startswith("edgewise · 264 tok · ")
    assert "hidden" not in shown["after_notice"]["text"]
    assert "Just now" not in shown["after_notice"]["tooltip"]
    # an empty notice is no notice
    assert "hidden" not in shown["empty_notice"]["text"]


def test_the_budget_is_in_the_tooltip_and_in_the_item_near_its_limit(shown):
    # an "ok" budget: only in the tooltip, no colour
    ok = shown["after_notice"]
    assert "Budget: this week: 61 % of budget." in ok["tooltip"]
    assert "budget" not in ok["text"] and ok["background"] is None
    warn = shown["warn"]
    assert warn["text"].endswith(" · $(warning) this week: 85 % of budget")
    assert warn["background"] == "statusBarItem.warningBackground"
    assert "this week: 85 % of budget" in shown["busy_keeps_budget"]["text"]
    limit = shown["limit"]
    assert limit["text"].endswith(" · $(error) this week: 100 % of budget")
    assert limit["background"] == "statusBarItem.errorBackground"
    # `budget: null`: no budget set any more
    gone = shown["no_budget"]
    assert "budget" not in gone["text"].lower() and gone["background"] is None
    assert "Budget:" not in gone["tooltip"]
