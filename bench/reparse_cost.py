"""What one keystroke costs the document store on the latency bench's 10,000-line file.

Replays the keystrokes `bench/latency.py` types into `_pydecimal.py + typing.py` (the
first ``--keystrokes`` characters of `_dlog10`, then a new line and `total = 10`) and
prints, per key: the store's sync (diff, line table, ``tree.edit``), tree-sitter's
incremental re-parse, the refresh of the definition and import tables, and the byte span
of the syntax errors afterwards. A key that leaves an unterminated string or bracket
(the half-typed signature, an open docstring) makes error recovery span the whole file:
those keys cost a whole-file parse, whatever the context engine does.

    PYTHONPATH=server:. .venv/bin/python bench/reparse_cost.py [--keystrokes 30]
"""

from __future__ import annotations

import argparse
import os
import time

from bench.latency import build_session
from edgewise.context.documents import DocumentStore, error_ranges
from edgewise.context.imports import bindings
from edgewise.context.languages import LanguageRegistry
from edgewise.context.outline import outline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keystrokes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    script = max(build_session(args.seed), key=lambda s: s.lines)
    lines = script.text.splitlines(keepends=True)
    cursor = sum(len(line) for line in lines[: script.line])
    text = script.text
    store = DocumentStore(LanguageRegistry())
    doc = store.open(script.uri, text, "python")
    outline(doc), bindings(doc)  # the tables exist, as after the first completion
    keys = [k.text for k in script.keys[: args.keystrokes]] + ["\n    ", *"total = 10"]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{script.name}: {script.lines} lines, {len(text)} characters; load average {load}")
    print("| key | sync ms | re-parse ms | tables ms | syntax errors span (bytes) |")
    print("|---|---:|---:|---:|---|")
    for key in keys:
        text = text[:cursor] + key + text[cursor:]
        cursor += len(key)
        began = time.perf_counter()
        store.sync(script.uri, text)
        synced = time.perf_counter()
        tree = doc.tree
        parsed = time.perf_counter()
        outline(doc), bindings(doc)
        tabled = time.perf_counter()
        assert tree is not None
        errors = error_ranges(tree.root_node)
        span = f"{min(e[0] for e in errors)}–{max(e[1] for e in errors)}" if errors else "none"
        print(
            f"| {key!r} | {1000 * (synced - began):.2f} | {1000 * (parsed - synced):.2f} | "
            f"{1000 * (tabled - parsed):.2f} | {span} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
