"""The first completion after opening a file: cold, and with the prompt prefilled where
the cursor rests.

For each of several ~1,000-line files of the Python standard library: open it, rest the
cursor at a line inside a function for 1 s (the user finds the place), then ask for an
inline completion there and time the answer. "cold": the editor sent nothing while the
cursor rested; "prefilled": it asked for code actions at the cursor (as VS Code does as
the cursor moves), which makes the server evaluate that prompt in the model process
while idle, with the cursor resting 1 s and 6 s. One server per mode, the model loaded
(and proved) before the first file; ratios are against "cold".

    PYTHONPATH=server:. .venv/bin/python bench/first_completion.py [--files 8]
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sysconfig
import tempfile
import time
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


def run(
    mode: str, rest: float, model: Path, files: list[str], detail: bool = False
) -> list[dict[str, Any]]:
    # the reports go to a scratch ledger, not the user's (their cost and budgets)
    client = RawClient(env={"EDGEWISE_STATE_DIR": tempfile.mkdtemp(prefix="edgewise-bench-")})
    out = []
    try:
        client.initialize(
            {"model": str(model), "minConfidence": 0, "maxTokens": 16, "contextLength": 2048}
        )
        wait_ready(client)
        for name in files:
            text, line, column = sample(name)
            uri = f"file:///bench/{mode}/{name}"
            client.open(uri, text)
            if mode != "cold":
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
            time.sleep(rest)
            started = time.monotonic()
            reply = client.call(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": uri},
                    "position": {"line": line, "character": column},
                    "context": {"triggerKind": 1},
                },
                timeout=120,
            )
            wall = time.monotonic() - started
            statuses = [
                n["params"] for n in client.notifications if n["method"] == "edgewise/status"
            ]
            last = statuses[-1].get("last") or {}
            tokens = last.get("tokens", {})
            items = (reply.get("result") or {}).get("items") or []
            times = last.get("time_ms", {})
            out.append(
                {
                    "file": name,
                    "wall_s": wall,
                    "prompt": tokens.get("prompt", 0),
                    "cached": tokens.get("cached", 0),
                    "shown": bool(items),
                    "prompt_ms": times.get("prompt"),
                    "generation_ms": times.get("generation"),
                    "queue_ms": times.get("queue"),
                    "total_ms": times.get("total"),
                }
            )
            if detail:
                print(f"{mode:22} {out[-1]}", flush=True)
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
    modes = {
        "cold": REST_S,
        f"prefilled, {REST_S:.0f} s rest": REST_S,
        f"prefilled, {LONG_REST_S:.0f} s rest": LONG_REST_S,
    }
    results = {mode: run(mode, rest, model, files, args.detail) for mode, rest in modes.items()}
    names = list(modes)
    print(f"| {'figure':28} | " + " | ".join(f"{m:>22}" for m in names) + " |")
    print(f"|{'-' * 30}|" + "|".join("-" * 24 for _ in names) + "|")

    def row(label: str, pick: Any) -> None:
        cold = pick(results["cold"])
        cells = []
        for name in names:
            value = pick(results[name])
            ratio = f" ({value / cold:.2f}x)" if cold and name != "cold" else ""
            cells.append(f"{value:.2f}{ratio}".rjust(22))
        print(f"| {label:28} | " + " | ".join(cells) + " |")

    row("first completion p50 (s)", lambda r: statistics.median(x["wall_s"] for x in r))
    row("first completion max (s)", lambda r: max(x["wall_s"] for x in r))
    row("prompt tokens (mean)", lambda r: statistics.mean(x["prompt"] for x in r))
    row("of them cached (mean)", lambda r: statistics.mean(x["cached"] for x in r))
    row("answers with text", lambda r: sum(x["shown"] for x in r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
