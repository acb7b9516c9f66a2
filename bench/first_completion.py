"""The first completion after opening a file, with the whole prompt sent cold (the
baseline) and as the product sends it.

For each of several ~1,000-line files of the Python standard library: open it, rest the
cursor at a line inside a function (the user finds the place), then ask for an inline
completion there and time the answer. Modes:
- "whole prompt, cold": ``coldPromptMs`` 0 (every prompt sent whole, as before it
  existed), the editor sent nothing while the cursor rested 1 s;
- "product, cold": the defaults (a prompt the cache does not hold is cut to what the
  model evaluates in ``coldPromptMs``), nothing sent while resting 1 s; then, after the
  cursor rests 6 s more, the user types a character there and a second request follows
  ("again"): it should have the whole prompt, prefilled while the cursor rested;
- "product, prefilled": the editor asked for code actions at the cursor (as VS Code does
  as the cursor moves), which makes the server evaluate that prompt in the model process
  while idle, with the cursor resting 1 s and 6 s.
One server per mode, the model loaded (and proved) before the first file; ratios are
against the baseline. Generation is capped at 16 tokens in every mode.

    PYTHONPATH=server:. .venv/bin/python bench/first_completion.py [--files 8]
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.machine import smollm2_here
from tests.robustness.stdio_client import RawClient

STDLIB = Path(sysconfig.get_paths()["stdlib"])
FILES = [
    "argparse.py",
    "csv.py",
    "ftplib.py",
    "imaplib.py",
    "pprint.py",
    "shutil.py",
    "tarfile.py",
    "textwrap.py",
    "tokenize.py",
    "zipfile/__init__.py",
]
LINES = 1000
REST_S = 1.0
LONG_REST_S = 6.0  # longer than a cold prompt takes here


def sample(name: str) -> tuple[str, int, int]:
    """The first ~1,000 lines of a file, and a cursor after the indentation of a body
    line in the last function that starts in the second half."""
    every = (STDLIB / name).read_text("utf-8").splitlines(keepends=True)
    for size in range(min(LINES, len(every)), 0, -1):  # the longest prefix that parses
        text = "".join(every[:size])
        try:
            tree = ast.parse(text)
            break
        except SyntaxError:
            continue
    lines = text.splitlines()
    functions = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.lineno > len(lines) // 2 and len(n.body) > 1
    ]
    body = functions[-1].body[1]
    line = body.lineno - 1
    column = len(lines[line]) - len(lines[line].lstrip())
    return text, line, column


def wait_ready(client: RawClient, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [
            n["params"].get("model", {}).get("state")
            for n in client.notifications
            if n["method"] == "edgewise/status"
        ]
        if states and states[-1] == "ready":
            return
        try:
            client.next_response(0.2)
        except Exception:
            pass
    raise SystemExit("the model never became ready")


@dataclass(frozen=True)
class Mode:
    name: str
    rest: float
    prefill: bool  # code actions asked at the cursor while it rests
    whole: bool = False  # coldPromptMs 0: every prompt sent whole
    again: bool = False  # a second request at the same place after LONG_REST_S


MODES = [
    Mode("whole prompt, cold", REST_S, prefill=False, whole=True),
    Mode("product, cold", REST_S, prefill=False, again=True),
    Mode(f"product, prefilled {REST_S:.0f} s", REST_S, prefill=True),
    Mode(f"product, prefilled {LONG_REST_S:.0f} s", LONG_REST_S, prefill=True),
]


def ask(client: RawClient, uri: str, line: int, column: int, name: str) -> dict[str, Any]:
    """An inline completion at the cursor, timed, with its report's figures."""
    started = time.monotonic()
    reply = client.inline(uri, line, column)
    wall = time.monotonic() - started
    items = (reply.get("result") or {}).get("items") or []
    # the report's status follows the answer (an empty answer's is not told apart)
    last = (client.report_status(reply).get("last") or {}) if items else {}
    tokens = last.get("tokens", {})
    times = last.get("time_ms", {})
    return {
        "file": name,
        "wall_s": wall,
        "prompt": tokens.get("prompt", 0),
        "cached": tokens.get("cached", 0),
        "shown": bool(items),
        "cut": "short context" in last.get("summary", ""),
        "prompt_ms": times.get("prompt"),
        "generation_ms": times.get("generation"),
        "queue_ms": times.get("queue"),
        "total_ms": times.get("total"),
    }


def run(mode: Mode, model: Path, files: list[str], detail: bool = False) -> dict[str, list[Any]]:
    # the reports go to a scratch ledger, not the user's (their cost and budgets)
    client = RawClient(env={"EDGEWISE_STATE_DIR": tempfile.mkdtemp(prefix="edgewise-bench-")})
    out: dict[str, list[Any]] = {"first": [], "again": []}
    options = {"model": str(model), "minConfidence": 0, "maxTokens": 16, "contextLength": 2048}
    if mode.whole:
        options["coldPromptMs"] = 0
    try:
        client.initialize(options)
        wait_ready(client)
        for name in files:
            text, line, column = sample(name)
            uri = f"file:///bench/{mode.name.replace(' ', '-')}/{name}"
            client.open(uri, text)
            if mode.prefill:
                client.call(
                    "textDocument/codeAction",
                    {
                        "textDocument": {"uri": uri},
                        "range": {
                            "start": {"line": line, "character": column},
                            "end": {"line": line, "character": column},
                        },
                        "context": {"diagnostics": []},
                    },
                    timeout=60,
                )
            time.sleep(mode.rest)
            out["first"].append(ask(client, uri, line, column, name))
            if detail:
                print(f"{mode.name:26} {out['first'][-1]}", flush=True)
            if mode.again:  # the cursor rests; then the user types a character
                time.sleep(LONG_REST_S)
                client.insert(uri, 2, line, column, "#")
                out["again"].append(ask(client, uri, line, column + 1, name))
                if detail:
                    print(f"{'  again':26} {out['again'][-1]}", flush=True)
            client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    finally:
        client.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--detail", action="store_true", help="print each request's times")
    args = parser.parse_args()
    model = smollm2_here()
    if model is None:
        return 1
    files = [f for f in FILES if (STDLIB / f).exists()][: args.files]
    results: dict[str, list[Any]] = {}
    for mode in MODES:
        got = run(mode, model, files, args.detail)
        results[mode.name] = got["first"]
        if got["again"]:
            results[f"{mode.name}, again"] = got["again"]
    names = list(results)
    base = MODES[0].name
    width = max(len(n) for n in names) + 9
    print(f"| {'figure':28} | " + " | ".join(f"{m:>{width}}" for m in names) + " |")
    print(f"|{'-' * 30}|" + "|".join("-" * (width + 2) for _ in names) + "|")

    def row(label: str, pick: Any) -> None:
        cold = pick(results[base])
        cells = []
        for name in names:
            value = pick(results[name])
            ratio = f" ({value / cold:.2f}x)" if cold and name != base else ""
            cells.append(f"{value:.2f}{ratio}".rjust(width))
        print(f"| {label:28} | " + " | ".join(cells) + " |")

    row("completion p50 (s)", lambda r: statistics.median(x["wall_s"] for x in r))
    row("completion max (s)", lambda r: max(x["wall_s"] for x in r))
    row("prompt tokens (mean)", lambda r: statistics.mean(x["prompt"] for x in r))
    row("of them cached (mean)", lambda r: statistics.mean(x["cached"] for x in r))
    row("prompts cut (coldPromptMs)", lambda r: sum(x["cut"] for x in r))
    row("answers with text", lambda r: sum(x["shown"] for x in r))
    print(f"({len(files)} files; 'again': the same place after {LONG_REST_S:.0f} s more rest)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
