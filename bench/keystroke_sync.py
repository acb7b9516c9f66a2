"""What a didChange costs the server before any parse, on the latency bench's
10,000-line file: the workspace applying the change, then the engine's document store
following it, told each change (``follow_changes``: the language server's way) beside
comparing the whole new text with the old (``DocumentStore.sync``: the batch and
whole-document way, and how the store followed every keystroke before).

Both ways are fed the same keystrokes in the same run, alternating key by key (so the
machine's load falls on both alike), on two files: the stdlib text as it is (ASCII,
characters are bytes) and the same text with multi-byte characters on every line (byte
offsets must be computed). The syntax tables exist (as after a first completion); the
tree is not read, as in a burst of typing no completion waits for (the re-parse is the
same either way). ``--baseline DIR`` also runs the comparing way with the server code of
another tree (e.g. the main branch before this change) in a child process, in rounds
alternating with this one.

    PYTHONPATH=server:. .venv/bin/python bench/keystroke_sync.py [--keystrokes 400]
        [--baseline /work/main] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

from lsprotocol import types

from bench.latency import Script, build_session, percentile
from edgewise.context.documents import DocumentStore
from edgewise.context.imports import bindings
from edgewise.context.languages import LanguageRegistry
from edgewise.context.outline import outline
from edgewise.lsp.workspace import LspTextDocument


def compare(store: DocumentStore, uri: str, doc: LspTextDocument, change: object) -> None:
    take = getattr(doc, "take_changes", None)  # absent from a baseline without it
    if take is not None:
        take()  # what the workspace kept for the store, not used this way
    store.sync(uri, doc.source)


def told(store: DocumentStore, uri: str, doc: LspTextDocument, change: object) -> None:
    from edgewise.lsp.documents import follow_changes

    follow_changes(store, uri, doc, [change])  # type: ignore[list-item]  # a partial change


WAYS: dict[str, Callable[[DocumentStore, str, LspTextDocument, object], None]] = {
    "compare whole texts": compare,
    "told each change": told,
}


def run(
    text: str, line: int, character: int, keys: list[str], ways: list[str]
) -> dict[str, list[float]]:
    """Milliseconds per key (workspace + store) for each way, the same keys alternately."""
    sessions: dict[str, tuple[LspTextDocument, DocumentStore, str]] = {}
    for name in ways:
        uri = f"file:///bench/{len(sessions)}.py"
        doc = LspTextDocument(uri, text)
        store = DocumentStore(LanguageRegistry())
        parsed = store.open(uri, text, "python")
        outline(parsed), bindings(parsed), parsed.lines.words()  # as after a completion
        sessions[name] = (doc, store, uri)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for index, key in enumerate(keys):
        change = types.TextDocumentContentChangePartial(
            range=types.Range(
                start=types.Position(line=line, character=character),
                end=types.Position(line=line, character=character),
            ),
            text=key,
        )
        if key == "\n":
            line, character = line + 1, 0
        else:
            character += len(key)  # ASCII keys: one UTF-16 unit each
        order = ways if index % 2 == 0 else list(reversed(ways))
        for name in order:
            doc, store, uri = sessions[name]
            began = time.perf_counter()
            doc.apply_change(change)
            WAYS[name](store, uri, doc, change)
            times[name].append(1000 * (time.perf_counter() - began))
    for doc, store, uri in sessions.values():
        kept = store.get(uri)
        assert kept is not None and kept.text == doc.source, "a store fell out of step"
    return times


def widen(text: str) -> str:
    """The same code with a multi-byte character in every line's end (a comment)."""
    return "".join(
        line.replace("\n", "  # é🙂\n", 1) if line.strip() and "\\" not in line else line
        for line in text.splitlines(keepends=True)
    )


def files(seed: int) -> tuple[Script, list[tuple[str, str]]]:
    script = max(build_session(seed), key=lambda s: s.lines)
    return script, [("ASCII", script.text), ("multi-byte", widen(script.text))]


def baseline_round(args: argparse.Namespace) -> dict[str, list[float]]:
    """The comparing way, run by the server code of ``args.baseline`` in a child."""
    env = dict(os.environ, PYTHONPATH=f"{args.baseline}/server:{os.getcwd()}")
    command = [sys.executable, __file__, "--child", "--keystrokes", str(args.keystrokes)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    times: dict[str, list[float]] = json.loads(out.stdout)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keystrokes", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", help="a tree whose server code is the baseline")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    script, texts = files(args.seed)
    typed = "".join(k.text for k in script.keys) + "\n    total = 10"
    keys = list((typed * (args.keystrokes // max(len(typed), 1) + 1))[: args.keystrokes])
    start = (script.line, script.character)
    if args.child:
        child = {
            label: run(text, *start, keys, ["compare whole texts"])["compare whole texts"]
            for label, text in texts
        }
        print(json.dumps(child))
        return 0
    pooled: dict[str, dict[str, list[float]]] = {label: {} for label, _ in texts}
    for _ in range(args.rounds if args.baseline else 1):
        if args.baseline:
            for label, values in baseline_round(args).items():
                pooled[label].setdefault("baseline: compare whole texts", []).extend(values)
        for label, text in texts:
            for name, values in run(text, *start, keys, list(WAYS)).items():
                pooled[label].setdefault(name, []).extend(values)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{script.name}: {script.lines} lines; {len(keys)} keys; load average {load}")
    if args.baseline:
        print(f"baseline: the server code of {args.baseline}, {args.rounds} rounds alternating")
    print("| file | way | p50 ms | p95 ms | mean ms | p50 ratio | mean ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (label, text), times in zip(texts, pooled.values(), strict=True):
        base = times.get("baseline: compare whole texts", times["compare whole texts"])
        for name, values in times.items():
            mean = sum(values) / len(values)
            print(
                f"| {label} ({len(text):,} chars) | {name} | {percentile(values, 0.5):.3f} | "
                f"{percentile(values, 0.95):.3f} | {mean:.3f} | "
                f"{percentile(values, 0.5) / percentile(base, 0.5):.2f} | "
                f"{mean / (sum(base) / len(base)):.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
