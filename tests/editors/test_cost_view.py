"""The VS Code cost view (editors/vscode/src/costReport.ts) on figures from a real
session's ledger (tiny model), rendered in headless Chromium: the week, the month, the
comparison, where the tokens went, the break-even and the export links are there, what
"saved" is compared with is said, and nothing needs a horizontal scrollbar even in a
narrow editor. Screenshots go to tests/artifacts/cost-view/.

(The full VS Code end-to-end test, tests/editors/test_vscode.py, opens the same view in
code-server; this one renders the view's HTML alone, quick and without code-server.)"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from edgewise.config import Pricing, Settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.lsp.commands import unit_costs
from edgewise.report.comparison import cost_summary, to_csv
from edgewise.report.ledger import ReportLog

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
ARTIFACTS = ROOT / "tests" / "artifacts" / "cost-view"
FIXTURE = ROOT / "tests" / "fixtures" / "actions" / "geometry.py"
PLAYWRIGHT = [
    ROOT / ".cache" / "editors" / "vscode" / "node_modules",
    VSCODE / "node_modules",
]


def node_path() -> Path | None:
    return next((p for p in PLAYWRIGHT if (p / "playwright-core").is_dir()), None)


def esbuild() -> Path | None:
    found = VSCODE / "node_modules" / ".bin" / "esbuild"
    return found if found.exists() else None


pytestmark = pytest.mark.skipif(
    shutil.which("node") is None
    or node_path() is None
    or esbuild() is None
    or not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists(),
    reason="needs node, esbuild (editors/vscode/node_modules), playwright-core and Chromium "
    "(scripts/setup-editors vscode)",
)


def session_answer(tiny_model: Path, log_path: Path) -> dict:
    """A real session: completions (one accepted, one superseded) and an action, with a
    hardware price set; the answer as edgewise.costReport gives it."""
    settings = Settings(
        model=str(tiny_model),
        context_length=2048,
        threads=1,
        max_tokens=12,
        min_confidence=0,
        pricing=Pricing(hardware_price=2400.0, hardware_life_years=3.0),
    )
    engine = Engine(settings, allow_download=False, report_log=ReportLog(log_path))
    text = FIXTURE.read_text("utf-8")
    uri = FIXTURE.as_uri()

    async def run() -> None:
        for n, (line, column) in enumerate(((4, 8), (9, 4), (14, 8))):
            done = await engine.complete(uri, text, Pos(line, column), "python")
            engine.session.outcome(done.report["id"], ("applied", "superseded", "applied")[n])
        result = await engine.run_action("docstring", uri, text, Pos(3, 5), Pos(3, 5), "python")
        engine.session.outcome(result.report["id"], "applied")

    try:
        asyncio.run(run())
        read = engine.session.ledger.read()
        summary = cost_summary(settings, read)
        session = dict(engine.session.ledger.session)
        entries = [
            {
                "id": r["id"],
                "summary": f"edgewise: {r['kind']} {r['action']}",
                "requests": 1,
                "promptTokens": r["tokens"]["prompt"],
                "completionTokens": r["tokens"]["completion"],
                "cachedTokens": r["tokens"]["cached"],
                "energyWh": r["cost"]["energy_wh"],
                "cloudEquivalent": r["cost"]["cloud_equivalent"],
                "localCost": r["cost"]["local"],
            }
            for r in read.reports
        ]
        return {
            "session": session,
            "units": unit_costs(session),
            "summary": summary,
            "csv": to_csv(summary),
            "budget": {"text": "this week: 61 % of budget", "level": "ok", "percent": 61.0},
            "entries": entries,
        }
    finally:
        engine.close()


def test_cost_view_shows_the_week_month_comparison_and_fits_a_narrow_editor(
    tiny_model: Path, tmp_path: Path
):
    answer = session_answer(tiny_model, tmp_path / "reports.jsonl")
    assert answer["session"]["outcomes"]["accepted"]["requests"] == 2
    stub = tmp_path / "vscode-stub.js"
    stub.write_text("module.exports = {};\n")
    bundle = tmp_path / "costReport.js"
    subprocess.run(
        [str(esbuild()), str(VSCODE / "src" / "costReport.ts"), "--bundle", "--platform=node",
         "--format=cjs", f"--alias:vscode={stub}", f"--outfile={bundle}", "--log-level=warning"],
        check=True, timeout=120,
    )  # fmt: skip
    answer_file = tmp_path / "answer.json"
    answer_file.write_text(json.dumps(answer))
    done = subprocess.run(
        ["node", str(Path(__file__).with_name("cost_view_shot.js")), str(bundle),
         str(answer_file), str(ARTIFACTS)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "NODE_PATH": str(node_path())},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    for width, page in seen["widths"].items():
        assert page["scrollWidth"] <= page["clientWidth"], f"a horizontal scrollbar at {width}px"
        assert Path(page["screenshot"]).stat().st_size > 10_000
    text = seen["widths"]["1000"]["text"]
    for expected in (
        "edgewise: this session, this week and this month",
        "This week and this month",
        "hardware (amortised)",
        "per hour of active use",
        "per 1,000 tokens",
        "per accepted line",
        "per applied change",
        "same tokens at mid-size hosted model",
        "flat subscription",
        "Where this month's tokens went",
        "suggestions accepted",
        "superseded while typing",
        "hardware paid back in",
        "Export: CSV · JSON",
        "Budget: this week: 61 % of budget",
        "saved compared with that price",  # what "saved" is compared with
        "same tokens at the cloud list price",
    ):
        assert expected in text, expected
    month = answer["summary"]["month"]["totals"]
    cur = "$"
    assert f"{cur}" in text and str(month["requests"]) in text
