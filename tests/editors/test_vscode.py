"""The VS Code extension in the real VS Code: code-server 4.100.3 (VS Code 1.100.3) on
127.0.0.1, driven by playwright-core in Debian's headless Chromium, with the tiny model.

The test builds the .vsix from editors/vscode (npm ci, eslint, tsc + esbuild, vsce),
installs it into a code-server with its own user-data, extensions and XDG folders, and
checks on the workbench's DOM what a user sees: ghost text that Tab accepts, the
docstring action from the light bulb, the `edgewise` report diagnostics with cost and
confidence in the Problems panel, the report on hover, the status bar's session cost and
the cost report it opens. Screenshots go to tests/artifacts/vscode/.

Needs Node.js 20, npm, Chromium and the npm packages `scripts/setup-editors vscode`
installs; a missing one fails the test with that command in the message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
DRIVER = Path(__file__).resolve().parent / "vscode_e2e.js"
FIXTURE = ROOT / "tests" / "fixtures" / "project" / "files.py"
ARTIFACTS = ROOT / "tests" / "artifacts" / "vscode"
SETUP_HINT = (
    "run `scripts/setup-editors vscode` (installs Chromium, code-server and playwright-core)"
)

# 1-based (line, column), as VS Code's "Go to Line" takes them, in tests/fixtures/project/files.py
COMPLETION_AT = (7, 9)  # the empty line in list_files' loop
TYPED = "n"  # typing asks VS Code for inline completions
ACTION_AT = (4, 5)  # on `def list_files(path):`
HOVER_AT = (5, 8)  # inside the docstring the action inserts below it
REWRITE_AT = (4, 1)  # the `def` line again, selected whole
SECOND_COMPLETION_AT = (2, 1)  # the empty line under `import os`, after maxTokens changed
MAX_TOKENS, NEW_MAX_TOKENS = 24, 3

# a report's Problems row: how sure first, then what it cost
REPORT_ROW = re.compile(
    r"(?:likely right|model's confidence): (\d+|<1) % \((?:calibrated on [^)]*|not calibrated)\)"
    r" · (\d+) prompt \+ (\d+) generated tokens.*?[\d.]+ s, [\d.]+ Wh, ≈ \$[\d.]+ at cloud prices"
)
STATUS = re.compile(r"^edgewise · ([\d.]+)([kM]?) tok · [\d.]+ Wh · ≈\$[\d.]+ saved vs cloud$")


def editors_dir() -> Path:
    return Path(os.environ.get("EDGEWISE_EDITORS", ROOT / ".cache" / "editors")) / "vscode"


def require_tools() -> dict[str, str]:
    """Every tool the test needs, or a failure that says how to install the missing ones."""
    tools = {
        "node": shutil.which("node"),
        "npm": shutil.which("npm"),
        "chromium": shutil.which("chromium") or shutil.which("chromium-browser"),
    }
    code_server = editors_dir() / "node_modules" / ".bin" / "code-server"
    playwright = editors_dir() / "node_modules" / "playwright-core"
    missing = [name for name, path in tools.items() if not path]
    if not code_server.exists():
        missing.append(f"code-server ({code_server})")
    if not playwright.is_dir():
        missing.append(f"playwright-core ({playwright})")
    if missing:
        pytest.fail(f"the VS Code test needs {', '.join(missing)}: {SETUP_HINT}", pytrace=False)
    return {**tools, "code-server": str(code_server)}  # type: ignore[dict-item]


def run(cmd: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    return proc.stdout


def build_vsix(npm: str) -> Path:
    """npm ci, lint, typecheck + bundle, package: the .vsix a user installs."""
    npm_env = {**os.environ, "npm_config_fund": "false", "npm_config_audit": "false"}
    run([npm, "ci", "--prefer-offline"], EXTENSION, 600, npm_env)
    run([npm, "run", "lint"], EXTENSION, 300, npm_env)
    run([npm, "run", "build"], EXTENSION, 300, npm_env)
    vsix = EXTENSION / "dist" / "edgewise.vsix"
    vsix.unlink(missing_ok=True)
    run([npm, "run", "package"], EXTENSION, 300, npm_env)
    assert vsix.is_file(), "vsce did not write dist/edgewise.vsix"
    return vsix


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"code-server exited with {proc.returncode}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail("code-server did not answer /healthz within a minute", pytrace=False)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """code-server, its extension host and `edgewise serve` share one process group: stop
    all of it, and wait until none of it is left."""
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 15.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
    proc.wait(timeout=15)


def user_settings(server: Path, model: Path) -> dict[str, object]:
    return {
        "edgewise.serverPath": str(server),
        "edgewise.model": str(model),
        "edgewise.debounceMs": 0,
        "edgewise.minConfidence": 0,  # the tiny model's text is noise: show it all the same
        "edgewise.trimBelow": 0,  # ... and never cut it where the model was unsure
        "edgewise.maxTokens": MAX_TOKENS,
        "edgewise.contextLength": 2048,
        # a quiet, offline workbench
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "workbench.enableExperiments": False,
        "telemetry.telemetryLevel": "off",
        "extensions.ignoreRecommendations": True,
        "extensions.autoCheckUpdates": False,
        "security.workspace.trust.enabled": False,
        # VS Code's own editor settings stay at their defaults (quick suggestions on):
        # the ghost text must show, and Tab accept it, with the word-suggest list about
    }


def evidence(lines_kept: int = 40) -> str:
    """What a failed browser run left: the extension's output log and every report and
    outcome the server logged, for reading a failure in CI's printout."""
    out: list[str] = []
    for log in sorted(ARTIFACTS.glob("edgewise-output-*.log")):
        lines = log.read_text("utf-8", "replace").splitlines()
        kept = [
            line.split("] ", 1)[-1]
            for line in lines
            if "edgewise" in line or "[error]" in line or "[warning]" in line
        ]
        out.append(f"--- {log.name}, last {lines_kept} lines:")
        out.extend(kept[-lines_kept:])
    for ledger in sorted(ARTIFACTS.glob("reports-*.jsonl")):
        out.append(f"--- {ledger.name}:")
        for line in ledger.read_text("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                out.append(f"(not JSON) {line[:120]}")
                continue
            out.append(
                " ".join(
                    str(entry.get(key))
                    for key in ("id", "report_id", "kind", "action", "outcome", "hidden")
                    if entry.get(key) is not None
                )
            )
    return "\n".join(out)


def server_offers_rewrite() -> bool:
    from edgewise.lsp.server import create_server

    return "edgewise.rewrite" in create_server().protocol.fm.commands


def counted(number: str, unit: str) -> float:
    return float(number) * {"": 1, "k": 1_000, "M": 1_000_000}[unit]


@pytest.mark.timeout(900)  # npm ci and a browser on 2 shared cores; a run takes 2 to 5 minutes
def test_vscode_extension_in_code_server(tiny_model: Path, tmp_path: Path) -> None:
    tools = require_tools()
    server = Path(sys.executable).parent / "edgewise"
    assert server.is_file(), f"the edgewise executable is not next to {sys.executable}"
    started = time.monotonic()
    vsix = build_vsix(tools["npm"])
    built_s = time.monotonic() - started

    def session(attempt: int) -> tuple[dict, str]:
        """One code-server and one browser run: what the workbench showed."""
        home = tmp_path / f"code-server-{attempt}"
        user_data, extensions, workspace = (
            home / "user-data",
            home / "extensions",
            home / "workspace",
        )
        for folder in (user_data / "User", extensions, workspace):
            folder.mkdir(parents=True)
        (workspace / "files.py").write_text(FIXTURE.read_text("utf-8"), "utf-8")
        (user_data / "User" / "settings.json").write_text(
            json.dumps(user_settings(server, tiny_model), indent=1), "utf-8"
        )
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(home / "xdg" / "config"),
            "XDG_DATA_HOME": str(home / "xdg" / "data"),
            "XDG_CACHE_HOME": str(home / "xdg" / "cache"),
            "EDGEWISE_STATE_DIR": str(home / "edgewise-state"),
            "HF_HUB_OFFLINE": "1",
        }
        dirs = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
        run([tools["code-server"], *dirs, "--install-extension", str(vsix)], ROOT, 120, env)
        assert list(extensions.glob("edgewise.edgewise-*")), "the .vsix was not installed"

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (home / "code-server.log").open("wb")
        proc = subprocess.Popen(
            [
                tools["code-server"],
                *dirs,
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--auth",
                "none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                str(workspace),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_healthy(url, proc)
            shutil.rmtree(ARTIFACTS, ignore_errors=True)
            ARTIFACTS.mkdir(parents=True)
            config = {
                "url": f"{url}/?folder={workspace}",
                "chromium": tools["chromium"],
                "artifacts": str(ARTIFACTS),
                "file": "files.py",
                "completionAt": COMPLETION_AT,
                "typeForCompletion": TYPED,
                "actionAt": ACTION_AT,
                "hoverAt": HOVER_AT,
                "rewriteAt": REWRITE_AT,
                "serverPath": str(server),
                "newMaxTokens": NEW_MAX_TOKENS,
                "secondCompletionAt": SECOND_COMPLETION_AT,
                "badServerPath": str(home / "no-such-dir" / "edgewise"),
            }
            config_file = home / "e2e.json"
            config_file.write_text(json.dumps(config), "utf-8")
            driver = subprocess.run(
                [tools["node"], str(DRIVER), str(config_file)],
                env={**env, "NODE_PATH": str(editors_dir() / "node_modules")},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        finally:
            stop_group(proc)
            log.close()
            logs = user_data / "logs"
            for found in logs.glob("*/exthost*/edgewise.edgewise/*.log") if logs.is_dir() else []:
                shutil.copy(found, ARTIFACTS / f"edgewise-output-{found.parent.parent.name}.log")
            ledger = home / "edgewise-state" / "reports.jsonl"  # every report the server made
            if ledger.is_file():
                shutil.copy(ledger, ARTIFACTS / f"reports-{attempt}.jsonl")
        lines = driver.stdout.strip().splitlines()
        assert lines, f"the browser driver printed nothing:\n{driver.stderr[-3000:]}"
        seen = json.loads(lines[-1])
        (ARTIFACTS / "result.json").write_text(
            json.dumps(seen, indent=1, ensure_ascii=False), "utf-8"
        )
        return seen, driver.stderr

    # one more run when the browser run ends in a step that timed out: on 2 shared cores a
    # key press is now and then lost before the workbench listens (seen in CI once in
    # ~10 runs); both runs' errors are printed, and the second must pass every assertion
    seen, stderr = session(1)
    if "error" in seen:
        print(f"first run: {seen['error']}\n{stderr}\n{evidence()}")
        seen, stderr = session(2)
    print(f"build {built_s:.0f} s, browser {seen.get('total_s')} s:", stderr, sep="\n")
    assert "error" not in seen, (
        f"{seen['error']}\nscreenshot: {seen.get('failure_screenshot')}\n"
        f"notifications: {seen.get('notifications')}\nstatus: {seen.get('status_at_failure')}\n"
        f"{evidence()}"
    )

    # the server started and said so in the status bar
    assert seen["status_ready"] == "edgewise · ready"

    # ghost text appeared at the cursor and Tab put exactly that text into the document
    line, column = COMPLETION_AT
    assert seen["ghost_text"].strip(), "the inline suggestion is empty"
    before = seen["lines_before"][line - 1][: column - 1]
    # (a long suggestion is in the DOM up to the editor's right edge: what showed is its start)
    accepted = seen["lines_after_accept"][line - 1]
    assert accepted.startswith(before + TYPED + seen["ghost_text"]), (accepted, seen["ghost_text"])

    # ... with VS Code's word-suggest list open over it (quick suggestions are on by
    # default): the ghost text continued the list's selected item, and Tab took all of it
    # and closed the list
    assert seen["suggest_list_after_tab"] is False

    # accepting ran edgewise.inlineAccepted: its report is a Problems row with cost and confidence
    completion_rows = [REPORT_ROW.search(r) for r in seen["problems_after_completion"]]
    completion_rows = [m for m in completion_rows if m]
    assert len(completion_rows) == 1, seen["problems_after_completion"]
    # the settings reached the server as initializationOptions: its model, its token cap
    assert 1 <= int(completion_rows[0].group(3)) <= MAX_TOKENS
    # how sure the model was is within what the row shows (not cut off at its right edge)
    fit = seen["completion_row_fit"]
    assert fit.get("fits") is True, fit

    # the docstring action was offered from the light bulb and inserted a docstring below the def
    assert seen["light_bulb"] is True, "no light bulb on the function"
    assert "Add docstring (edgewise)" in seen["action_menu"]
    action_line = ACTION_AT[0]
    assert seen["lines_after_action"][action_line - 1] == "def list_files(path):"
    assert seen["lines_after_action"][action_line].startswith('    """')
    # its report marks the docstring's first line only (one Info squiggle line in it)
    after = seen["lines_after_action"]
    closing = next(
        i for i in range(action_line + 1, len(after)) if after[i].rstrip().endswith('"""')
    )
    docstring_lines = set(range(action_line + 1, closing + 2))  # 1-based
    if closing > action_line:  # a docstring of more than one line: only the first marked
        assert set(seen["info_squiggle_lines"]) & docstring_lines == {action_line + 1}, (
            seen["info_squiggle_lines"],
            after,
        )

    # ... and its report joined the completion's in the Problems panel
    rows = [REPORT_ROW.search(r) for r in seen["problems_after_action"]]
    reports = [m for m in rows if m]
    assert len(reports) == 2, seen["problems_after_action"]
    report_tokens = sum(int(m.group(2)) + int(m.group(3)) for m in reports)

    # deleting the accepted completion's line removed its Problems row; the docstring's stays
    assert seen["deleted_line"] > 0, "the accepted line was found in the editor"
    head = seen["lines_after_accept"][line - 1][:40]
    assert not [x for x in seen["lines_after_delete"] if x.startswith(head)], seen[
        "lines_after_delete"
    ]
    left = [m for m in (REPORT_ROW.search(r) for r in seen["problems_after_delete"]) if m]
    assert len(left) == 1, seen["problems_after_delete"]

    # the status bar counts at least the tokens of both reports (the session may hold more)
    status = STATUS.match(seen["status_after"])
    assert status, seen["status_after"]
    shown = counted(status.group(1), status.group(2))
    assert shown >= report_tokens * 0.99, (seen["status_after"], report_tokens)

    # hovering the docstring shows the whole report, readable
    hover = seen["hover"]
    for label in ("edgewise report", "tokens", "energy", "cost", "confidence", "verified", "model"):
        assert label in hover, (label, hover)
    assert "syntax ok" in hover
    assert "edgewise-tiny-random" in hover  # edgewise.model

    # Explain showed its progress, then opened beside the code: a second editor group, the
    # code's editor still the active one
    layout = seen["explain_layout"]
    assert len(layout["groups"]) >= 2, layout
    assert any(any("explain-" in t for t in tabs) for tabs in layout["groups"]), layout
    assert layout["activeTab"] and "files.py" in layout["activeTab"], layout
    assert seen["explain_progress_seen"] is True

    # clicking the status bar opened the cost report: totals and a chart of tokens per request
    report = seen["cost_report"]
    assert report and "requests" in report and "Tokens per request" in report, report
    requests = int(re.search(r"requests\s+(\d+)", report).group(1))  # type: ignore[union-attr]
    assert requests >= 2
    assert seen["cost_report_has_chart"] is True

    # "Edgewise: Show Last Prompt" opened exactly what was sent for the last request
    assert "def list_files(path):" in "\n".join(seen["last_prompt_lines"])

    # settings reached the server without complaint (serverPath is not sent to it)
    assert not [n for n in seen["notifications"] if "edgewise" in (n or "")], seen["notifications"]

    # Rewrite Selection… asked for an instruction; a server without `edgewise.rewrite` is
    # named as the reason, in one clear message
    assert "How should edgewise rewrite the selected code?" in seen["rewrite_prompt"]
    unknown = [n for n in seen["rewrite_notifications"] if "does not know the command" in n]
    if server_offers_rewrite():
        assert not unknown, seen["rewrite_notifications"]
        # the tiny model's rewrite is refused by the syntax gate: said once, not twice
        refused = [n for n in seen["rewrite_notifications"] if "rewrite not applied" in n]
        assert len(refused) == 1, seen["rewrite_notifications"]
        assert not [n for n in seen["rewrite_notifications"] if "not rewritten" in n]
    else:
        assert len(unknown) == 1 and "edgewise.rewrite" in unknown[0], seen["rewrite_notifications"]

    # a rewrite inside the docstring was shown first, as a diff beside the code with a
    # notification to Apply or Discard it: the document unchanged meanwhile, changed (and
    # reported) once applied, the diff closed
    preview = seen["preview"]
    assert "line" in preview, preview  # the docstring has a line to rewrite
    assert "edgewise: Rewrite: say it shorter: apply this change?" in preview["ask"]
    assert "Apply" in preview["ask"] and "Discard" in preview["ask"], preview["ask"]
    assert "(preview)" in preview["diff_tab"] and preview["diff_editor"] is True, preview
    assert preview["during"] == preview["before"]
    # ... and the first time, Discard: nothing changed, no warning, a word in the status bar
    assert preview["after_discard"] == preview["before"]
    assert not [t for t in preview["toasts_after_discard"] if "rewrite" in (t or "")], preview
    assert "edgewise: rewrite discarded" in preview["status_after_discard"], preview
    target = preview["line"] - 1
    assert preview["after"][target] != preview["before"][target], preview
    assert [r for r in preview["rows"] if "action:rewrite" in r], preview["rows"]

    # "Edgewise: Restart Server" came back ready; a wrong serverPath gave one notification
    # with the install command and an error in the status bar; the right one restarted it
    names = [step["name"] for step in seen["steps"]]
    assert names[-4:-1] == ["restarted", "wrong server path", "server path restored"], names
    missing = [n for n in seen["missing_server_notifications"] if "edgewise.serverPath" in n]
    assert len(missing) == 1, seen["missing_server_notifications"]
    assert "not an executable file" in missing[0] and "pip install" in missing[0]
    assert "`" not in missing[0], "a notification shows no Markdown: no literal backticks"
    assert seen["status_missing_server"]["error"] is True, seen["status_missing_server"]

    # a setting changed in the Settings editor reaches the running server: the next
    # completion is capped at the new maxTokens (the old server's diagnostics are gone)
    after = [REPORT_ROW.search(r) for r in seen["problems_after_setting"]]
    after = [m for m in after if m]
    assert len(after) == 1, seen["problems_after_setting"]
    assert 1 <= int(after[0].group(3)) <= NEW_MAX_TOKENS, seen["problems_after_setting"]
