"""Does the user's recent-edits context help? Real edit sequences replayed: two released
versions of a package (`attrs` 24.2.0 → 25.3.0, source distributions from PyPI), each
changed module's diff applied hunk by hunk through the engine's document store, as an
editor would send the changes.

Before each hunk that writes a line (at least two words), the cursor sits on its first
new line after its first word: the hunks before it are the recent edits, the rest of the
line is what the user is about to type. SmolLM2 completes there twice, greedy, with the
same budget, with and without the recent-edits context (snippets of open files off in
both, so only the edits differ); exact-right = the suggestion's first line is the rest of
the line (the cut where the model stops being sure off in both: this measures the
context, not the cut).

    python bench/recent_edits.py [--positions 30] [--minutes 10] [--budget 512]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from bench.corpora import pypi_sources  # noqa: E402
from bench.machine import smollm2_here  # noqa: E402
from edgewise.calibration.sampling import first_line, first_word  # noqa: E402
from edgewise.config import Settings  # noqa: E402
from edgewise.context.positions import Pos  # noqa: E402
from edgewise.engine import Engine  # noqa: E402

NAME, OLD, NEW = "attrs", "24.2.0", "25.3.0"
RESULTS = ROOT / "bench" / "results"
FIRST_WORD = re.compile(r"\s*\w+")


def hunks(old: list[str], new: list[str]) -> list[tuple[int, int, int, int]]:
    """The diff's changed regions (old i1:i2 → new j1:j2), top to bottom."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


async def run(args: argparse.Namespace) -> dict[str, object]:
    model = smollm2_here()
    if model is None:
        raise SystemExit(1)
    old_root, new_root = pypi_sources(NAME, OLD) / "src", pypi_sources(NAME, NEW) / "src"
    settings = Settings(
        model=str(model),
        context_budget=args.budget,
        context_length=2048,
        temperature=0.0,
        threads=args.threads,
        debounce_ms=0,
        max_completion_ms=600_000,
        open_file_snippets=False,
        trim_below=0.0,
    )
    without = replace(settings, recent_edits=False)
    engine = Engine(settings, allow_download=False, report_log=False)
    engine.position_encoding = "utf-32"
    engine.workspace_roots = [new_root]
    right = {"with": 0, "without": 0}
    words = {"with": 0, "without": 0}
    measured = 0
    with_edits = 0  # positions whose prompt carried at least one edit
    started = time.monotonic()
    for new_path in sorted(new_root.rglob("*.py")):
        old_path = old_root / new_path.relative_to(new_root)
        if not old_path.exists():
            continue
        old, new = old_path.read_text().splitlines(True), new_path.read_text().splitlines(True)
        regions = hunks(old, new)
        if len(regions) < 2:
            continue
        uri = new_path.as_uri()
        current = list(old)
        shift = 0  # lines the applied hunks added
        engine.documents.open(uri, "".join(current))
        for number, (i1, i2, j1, j2) in enumerate(regions):
            start = i1 + shift
            target = new[j1] if j2 > j1 else ""
            typed = FIRST_WORD.match(target)
            stop = measured >= args.positions or time.monotonic() - started > args.minutes * 60
            if number and typed and len(target.split()) >= 2 and not stop:
                partial = current[:start] + [typed.group(0) + "\n"] + current[i2 + shift :]
                text, pos = "".join(partial), Pos(start, len(typed.group(0)))
                truth = target.rstrip("\n")[len(typed.group(0)) :].rstrip()
                for label, chosen in (("with", settings), ("without", without)):
                    engine.configure(chosen)
                    done = await engine.complete(uri, text, pos, "python")
                    shown = "" if done.hidden else done.text
                    right[label] += first_line(shown) == truth
                    words[label] += bool(first_word(truth)) and first_word(shown) == first_word(
                        truth
                    )
                    if label == "with":
                        kinds = [p["kind"] for p in done.report["context"]["pieces"]]
                        with_edits += "edit" in kinds
                measured += 1
            current[start : i2 + shift] = new[j1:j2]
            shift += (j2 - j1) - (i2 - i1)
            engine.documents.sync(uri, "".join(current))
        engine.close_document(uri)
        if measured and measured % 5 == 0:
            rate = (time.monotonic() - started) / measured
            print(f"  {measured} positions ({rate:.1f} s each)", file=sys.stderr)
        if measured >= args.positions or time.monotonic() - started > args.minutes * 60:
            break
    engine.close()
    n = max(measured, 1)
    out = {
        "package": f"{NAME} {OLD} -> {NEW}",
        "positions": measured,
        "with_edits_in_prompt": with_edits,
        "budget": args.budget,
        "exact_with": right["with"] / n,
        "exact_without": right["without"] / n,
        "word_with": words["with"] / n,
        "word_without": words["without"] / n,
    }
    print(
        f"{NAME} {OLD} -> {NEW}: {measured} hunk positions ({with_edits} with edits in the "
        f"prompt), budget {args.budget} tokens, greedy\n"
        f"{'':24}{'with recent edits':>20}{'without':>12}\n"
        f"{'exact line right':24}{out['exact_with']:>20.1%}{out['exact_without']:>12.1%}\n"
        f"{'first word right':24}{out['word_with']:>20.1%}{out['word_without']:>12.1%}"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=30)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--budget", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "recent-edits.json")
    args = parser.parse_args()
    out = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
