"""Keystroke-to-suggestion time on the real offline model (SmolLM2-135M), typing along a
line of a 1,000-line file with a 1024-token context, with and without KV prefix reuse.

Each keystroke re-syncs the document (incremental tree-sitter parse), builds the prompt
and completes (token healing on, temperature 0) through the same `Engine.complete` the
LSP server calls; the LSP debounce is not included. Without reuse every keystroke
evaluates the whole prompt again (the engine's typing optimizations off, as in the
benchmarks' baseline, which also turns the result cache off; no keystroke here repeats a prompt, so only the reuse differs).

    python bench/latency_real.py [--threads 0] [--keystrokes 40] [--cold-keystrokes 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from bench.corpora import stdlib_root  # noqa: E402
from edgewise.config import Settings  # noqa: E402
from edgewise.context.positions import Pos  # noqa: E402
from edgewise.engine import Engine  # noqa: E402
from edgewise.model.llama import thread_counts  # noqa: E402
from edgewise.model.registry import packaged_model  # noqa: E402

SOURCE = "argparse.py"  # first 1,000 lines of the interpreter's own argparse
LINES = 1000
TYPED_LINE = 700  # 0-based: a line deep in the file, so the window is full


def load_file() -> tuple[str, int, str]:
    lines = (stdlib_root() / SOURCE).read_text("utf-8").split("\n")[:LINES]
    # the first statement at or after TYPED_LINE like `self.x = f(...)` (code, not prose)
    index = next(
        i
        for i in range(TYPED_LINE, LINES)
        if re.match(r"\s+self\.\w+ = \S", lines[i]) and len(lines[i].strip()) >= 30
    )
    target = lines[index]
    lines[index] = ""
    return "\n".join(lines), index, target


async def type_along(
    engine: Engine, text: str, line: int, target: str, every: int, parts: list[dict[str, float]]
) -> list[float]:
    uri = (stdlib_root() / SOURCE).as_uri()
    lines = text.split("\n")
    indent = len(target) - len(target.lstrip())
    times: list[float] = []
    # the user arrives at the line: one completion there first (not timed)
    lines[line] = target[:indent]
    await engine.complete(uri, "\n".join(lines), Pos(line, indent), "python")
    for column in range(indent + 1, len(target) + 1, every):
        lines[line] = target[:column]
        started = time.perf_counter()
        done = await engine.complete(uri, "\n".join(lines), Pos(line, column), "python")
        times.append((time.perf_counter() - started) * 1000.0)
        report = done.report
        parts.append(
            {
                "prompt_ms": report["time_ms"]["prompt"],
                "generation_ms": report["time_ms"]["generation"],
                "evaluated": report["tokens"]["prompt"] - report["tokens"]["cached"],
                "generated": report["tokens"]["completion"],
            }
        )
    return times


async def run(args: argparse.Namespace) -> dict[str, object]:
    text, line, target = load_file()
    settings = Settings(
        model=str(packaged_model()),
        context_budget=1024,
        context_length=2048,
        threads=args.threads,
        debounce_ms=0,
        max_completion_ms=60_000,  # without reuse the prompt alone outlasts the 5 s default
    )
    engine = Engine(settings, allow_download=False, report_log=False)  # not the user's ledger
    engine.position_encoding = "utf-32"
    await engine.host.backend()  # load the model before timing
    span = len(target) - (len(target) - len(target.lstrip()))
    every_warm = max(1, span // args.keystrokes)
    every_cold = max(1, span // args.cold_keystrokes)
    warm_parts: list[dict[str, float]] = []
    cold_parts: list[dict[str, float]] = []
    warm = await type_along(engine, text, line, target, every_warm, warm_parts)
    prompt_tokens = engine.last_prompt["prompt_tokens"] if engine.last_prompt else 0
    # the same run with prefix reuse off (the baseline: no result cache either)
    engine.typing_optimizations = False
    cold = await type_along(engine, text, line, target, every_cold, cold_parts)
    engine.close()
    out: dict[str, object] = {
        "file": f"{SOURCE} (first {LINES} lines), typing line {line + 1}: {target.strip()!r}",
        "prompt_tokens": prompt_tokens,
        "threads": dict(
            zip(
                ("generation", "prompt"),
                thread_counts(args.threads, os.cpu_count() or 1),
                strict=True,
            )
        ),
        "load_average": os.getloadavg()[0],
        "reuse": {"n": len(warm), "p50": float(np.median(warm)), "p95": pct(warm, 95)},
        "no_reuse": {"n": len(cold), "p50": float(np.median(cold)), "p95": pct(cold, 95)},
        "reuse_parts": medians(warm_parts),
        "no_reuse_parts": medians(cold_parts),
    }
    return out


def medians(parts: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.median([p[k] for p in parts])) for k in parts[0]} if parts else {}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="0 = all cores")
    parser.add_argument("--keystrokes", type=int, default=40, help="timed keystrokes with reuse")
    parser.add_argument("--cold-keystrokes", type=int, default=8, help="... without reuse")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    reuse, cold = result["reuse"], result["no_reuse"]
    assert isinstance(reuse, dict) and isinstance(cold, dict)
    print(result["file"])
    print(
        f"SmolLM2-135M Q4_1, prompt {result['prompt_tokens']} tokens (budget 1024), "
        f"threads {result['threads']}, load average {result['load_average']:.1f}"
    )
    print(
        f"{'':<18} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}   median: evaluated tokens, prompt ms, "
        "generated tokens, generation ms"
    )
    for label, row, key in (
        ("prefix reuse on", reuse, "reuse_parts"),
        ("prefix reuse off", cold, "no_reuse_parts"),
    ):
        part = result[key]
        assert isinstance(part, dict)
        print(
            f"{label:<18} {row['n']:>4} {row['p50']:>8.0f} {row['p95']:>8.0f}   "
            f"{part['evaluated']:>6.0f} {part['prompt_ms']:>8.0f} {part['generated']:>6.0f} "
            f"{part['generation_ms']:>8.0f}"
        )
    print(
        f"reuse is {cold['p50'] / reuse['p50']:.1f}× faster at p50 "
        f"({cold['p95'] / reuse['p95']:.1f}× at p95); target p50 ≤ 250 ms: "
        f"{'met' if reuse['p50'] <= 250 else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
