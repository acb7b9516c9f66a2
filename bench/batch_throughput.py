"""Batch throughput of `edgewise refactor`: targets per minute and the model's share of
the wall time, against the same targets run by a bare loop over Engine.run_action (the
editor's path with no batch machinery: the baseline).

    PYTHONPATH=server:. python bench/batch_throughput.py [--targets 200] [--max-tokens 64]
        [--model PATH.gguf] [--remote-servers 4 --remote-targets 40]

The project is the test fixture (tests/fixtures/batch_project, Python and TypeScript)
copied as many times as it takes to hold --targets docstring targets. Both runs are dry
runs on the tiny random-weight model unless --model names another GGUF.

With the remote backend in the build (edgewise.model.remote and the servers of
bench/remote_throughput.py), it also starts --remote-servers llama-cpp-python servers on
127.0.0.1 behind a round-robin and prints the speed-up of `--jobs 4` over `--jobs 1`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "batch_project"


def build_project(dest: Path, want: int) -> tuple[int, int]:
    """Copies of the fixture until the project holds ``want`` targets: (copies, targets)."""
    from edgewise.actions.catalog import get_action
    from edgewise.batch.discovery import discover
    from edgewise.batch.targets import find_targets
    from edgewise.context.documents import DocumentStore
    from edgewise.context.languages import LanguageRegistry

    spec = get_action("docstring")
    assert spec is not None
    store = DocumentStore(LanguageRegistry())
    copies = targets = 0
    while targets < want:
        copy = dest / f"shop_{copies:02d}"
        shutil.copytree(FIXTURE, copy)
        (copy / "dot-gitignore").rename(copy / ".gitignore")
        copies += 1
        targets = 0
        for found in discover([dest], [], [], dest).files:
            doc = store.open(found.path.as_uri(), found.path.read_text("utf-8"))
            targets += len(find_targets(doc, spec))
    return copies, targets


async def bare_engine_loop(project: Path, settings: dict, limit: int) -> tuple[float, float, int]:
    """The baseline: the same targets, in the same order, one run_action after another."""
    from edgewise.actions.base import char_offset
    from edgewise.actions.catalog import get_action
    from edgewise.batch.discovery import discover
    from edgewise.batch.targets import find_targets
    from edgewise.config import parse_settings
    from edgewise.context.positions import LineIndex
    from edgewise.engine import Engine

    spec = get_action("docstring")
    assert spec is not None
    engine = Engine(parse_settings(settings).settings, allow_download=False)
    try:
        await engine.host.backend()  # loaded before the clock starts
        started = time.monotonic()
        model_ms = 0.0
        done = 0
        for found in discover([project], [], [], project).files:
            text = found.path.read_text("utf-8")
            uri = found.path.as_uri()
            doc = engine.documents.open(uri, text)
            index = LineIndex(text)
            for target in find_targets(doc, spec):
                if done >= limit:
                    break
                start = index.position(char_offset(doc.data, target.start_byte))
                end = index.position(char_offset(doc.data, target.end_byte))
                result = await engine.run_action("docstring", uri, text, start, end)
                model_ms += result.report["time_ms"]["total"]
                done += 1
            engine.documents.close(uri)
        return time.monotonic() - started, model_ms / 1000.0, done
    finally:
        engine.close()


def run_refactor(project: Path, settings: Path, report: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "server"), str(ROOT)]))
    command = [sys.executable, "-m", "edgewise.cli", "refactor", str(project)]
    command += ["--action", "docstring", "--settings", str(settings), "--report", str(report)]
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"edgewise refactor failed ({done.returncode}):\n{done.stderr}")
    lines = [json.loads(line) for line in report.read_text("utf-8").splitlines() if line]
    return lines[-1]


def embedded(tmp: Path, model: Path, targets: int, max_tokens: int) -> None:
    project = tmp / "project"
    project.mkdir()
    copies, found = build_project(project, targets)
    settings = {"model": str(model), "actionMaxTokens": max_tokens}
    settings_file = tmp / "settings.json"
    settings_file.write_text(json.dumps(settings))
    print(f"model {model.name}; {copies} copies of the fixture project = {found} targets; ")
    print(f"first {targets} run; actionMaxTokens {max_tokens}; {os.cpu_count()} CPU cores\n")

    load_before = os.getloadavg()[0]
    bare_wall, bare_model, bare_done = asyncio.run(bare_engine_loop(project, settings, targets))
    summary = run_refactor(project, settings_file, tmp / "r.jsonl", "--limit", str(targets))
    totals, timing = summary["totals"], summary["timing"]
    done = summary["targets"]["processed"]
    wall = totals["wall_seconds"]
    steady = wall - timing["discovery_seconds"] - timing["load_seconds"]

    rows = [
        ("bare Engine.run_action loop", bare_done, bare_wall, bare_model),
        ("edgewise refactor (whole run)", done, wall, totals["model_seconds"]),
        ("edgewise refactor (after load)", done, steady, totals["model_seconds"]),
    ]
    print(
        f"{'':32} {'targets':>7} {'wall s':>8} {'targets/min':>12} {'model s':>8} "
        f"{'model share':>12} {'other ms/target':>16}"
    )
    for name, count, seconds, model_s in rows:
        print(
            f"{name:32} {count:>7} {seconds:>8.2f} {count / seconds * 60:>12.1f} "
            f"{model_s:>8.2f} {model_s / seconds:>11.1%} {(seconds - model_s) / count * 1000:>16.1f}"
        )
    base_rate = bare_done / bare_wall
    base_other = (bare_wall - bare_model) / bare_done
    print(
        f"\nratio refactor/bare: targets per minute {done / steady / base_rate:.2f} "
        f"(the model's own speed moves this on a shared machine), "
        f"non-model time per target {(steady - totals['model_seconds']) / done / base_other:.2f}"
    )
    print(
        f"discovery {timing['discovery_seconds']:.2f} s, model load {timing['load_seconds']:.2f} s; "
        f"context engine saved {totals['tokens_saved']} of {totals['tokens_whole_file']} "
        f"whole-file prompt tokens ({totals['tokens_saved'] / max(totals['tokens_whole_file'], 1):.0%})"
    )
    print(f"load average 1 min: before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")


def remote(tmp: Path, model: Path, servers: int, targets: int, max_tokens: int) -> None:
    have = importlib.util.find_spec("edgewise.model.remote") is not None
    helpers = (ROOT / "bench" / "remote_throughput.py").is_file()
    if not (have and helpers):
        print("\nremote --jobs speed-up: not measured (this build has no remote backend)")
        return
    from bench.remote_throughput import RoundRobin, start_servers, stop_servers

    project = tmp / "remote_project"
    project.mkdir()
    build_project(project, targets)
    running = start_servers(model, servers, tmp)
    proxy = RoundRobin([port for _, port in running]).start()
    url = f"http://127.0.0.1:{proxy.port}"
    settings_file = tmp / "remote.json"
    settings_file.write_text(
        json.dumps({"remoteTokenizer": str(model), "actionMaxTokens": max_tokens})
    )
    print(
        f"\nremote: {servers} llama_cpp.server processes x 1 thread behind {url}; {targets} targets"
    )
    print(f"{'jobs':>5} {'wall s':>8} {'targets/min':>12} {'speed-up':>9}")
    try:
        base = None
        for jobs in (1, 4):
            report = tmp / f"remote-{jobs}.jsonl"
            summary = run_refactor(project, settings_file, report, "--backend", url,
                                   "--jobs", str(jobs), "--limit", str(targets))  # fmt: skip
            seconds = summary["totals"]["wall_seconds"] - summary["timing"]["load_seconds"]
            rate = summary["targets"]["processed"] / seconds * 60
            base = base or rate
            print(f"{jobs:>5} {seconds:>8.2f} {rate:>12.1f} {rate / base:>8.2f}x")
    finally:
        proxy.stop()
        stop_servers(running)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=64, help="actionMaxTokens")
    parser.add_argument("--model", type=Path, help="GGUF (default: the tiny test model)")
    parser.add_argument("--remote-servers", type=int, default=4)
    parser.add_argument("--remote-targets", type=int, default=40)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "server"))
    with tempfile.TemporaryDirectory(prefix="edgewise-batch-bench-") as name:
        tmp = Path(name)
        model = args.model
        if model is None:
            from edgewise.model.tiny_gguf import write_tiny_gguf

            model = write_tiny_gguf(tmp / "tiny.gguf", seed=0)
        embedded(tmp, model, args.targets, args.max_tokens)
        remote(tmp, model, args.remote_servers, args.remote_targets, args.max_tokens)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
