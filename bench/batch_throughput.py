"""Batch throughput of `edgewise refactor`: targets per minute and the model's share of
the wall time, against the same targets run by a bare loop over Engine.run_action (the
editor's path with no batch machinery: the baseline).

    PYTHONPATH=server:. python bench/batch_throughput.py [--targets 200] [--max-tokens 64]
        [--rounds 4] [--model PATH.gguf] [--remote-servers 4 --remote-targets 40]

The project is the test fixture (tests/fixtures/batch_project, Python and TypeScript)
copied as many times as it takes to hold the targets of one round. Each method runs
--targets in total, in --rounds interleaved rounds (ABBA order, so that the drifting
load of a shared machine falls on both alike). Dry runs, on the tiny random-weight model
unless --model names another GGUF.

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
    engine = Engine(parse_settings(settings).settings, allow_download=False, report_log=False)
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


def bare_round(project: Path, settings_file: Path, limit: int) -> tuple[float, float, int]:
    """One baseline round in a fresh process, as each batch round is."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "server"), str(ROOT)]))
    command = [sys.executable, str(Path(__file__)), "--bare-round", str(project)]
    command += [str(settings_file), str(limit)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    wall, model_s, count = json.loads(done.stdout.strip().splitlines()[-1])
    return float(wall), float(model_s), int(count)


def run_refactor(project: Path, settings: Path, report: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "server"), str(ROOT)]))
    env["EDGEWISE_STATE_DIR"] = str(report.parent / "state")  # not the user's ledger
    command = [sys.executable, "-m", "edgewise.cli", "refactor", str(project)]
    command += ["--action", "docstring", "--settings", str(settings), "--report", str(report)]
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"edgewise refactor failed ({done.returncode}):\n{done.stderr}")
    lines = [json.loads(line) for line in report.read_text("utf-8").splitlines() if line]
    return lines[-1]


def embedded(
    tmp: Path, model: Path, targets: int, max_tokens: int, rounds: int, threads: int
) -> None:
    project = tmp / "project"
    project.mkdir()
    per_round = targets // rounds
    copies, found = build_project(project, per_round)
    # one model thread: llama.cpp's threads spin-wait for each other, so on a shared
    # machine with all cores busy two threads swing 10x from round to round; one is steady
    settings = {"model": str(model), "actionMaxTokens": max_tokens, "threads": threads}
    settings_file = tmp / "settings.json"
    settings_file.write_text(json.dumps(settings))
    print(
        f"model {model.name}; {copies} copies of the fixture project = {found} targets; "
        f"{rounds} rounds x {per_round} targets per method, each round a fresh process, "
        f"interleaved in ABBA order (a shared machine's load drifts); "
        f"actionMaxTokens {max_tokens}; model threads {threads}; "
        f"{os.cpu_count()} CPU cores\n"
    )
    load_before = os.getloadavg()[0]
    bare = [0.0, 0.0, 0]  # wall s, model s, targets
    batch = [0.0, 0.0, 0, 0.0]  # wall s (after load), model s, targets, whole-run wall s
    saved = whole = 0
    for number in range(rounds):
        for method in ("bare", "batch") if number % 2 == 0 else ("batch", "bare"):
            if method == "bare":
                wall, model_s, done = bare_round(project, settings_file, per_round)
                print(
                    f"  round {number + 1} bare   {done} targets {wall:7.2f} s, model {model_s:7.2f} s"
                )
                bare[0] += wall
                bare[1] += model_s
                bare[2] += done
                continue
            report = tmp / f"r{number}.jsonl"
            summary = run_refactor(project, settings_file, report, "--limit", str(per_round))
            totals, timing = summary["totals"], summary["timing"]
            steady = totals["wall_seconds"] - timing["discovery_seconds"] - timing["load_seconds"]
            batch[0] += steady
            batch[1] += totals["model_seconds"]
            batch[2] += summary["targets"]["processed"]
            batch[3] += totals["wall_seconds"]
            print(
                f"  round {number + 1} batch  {summary['targets']['processed']} targets "
                f"{steady:7.2f} s, model {totals['model_seconds']:7.2f} s (after load)"
            )
            saved += totals["tokens_saved"]
            whole += totals["tokens_whole_file"]

    rows = [
        ("bare Engine.run_action loop", bare[2], bare[0], bare[1]),
        ("edgewise refactor (after load)", batch[2], batch[0], batch[1]),
        ("edgewise refactor (whole run)", batch[2], batch[3], batch[1]),
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
    base_rate = bare[2] / bare[0]
    base_other = (bare[0] - bare[1]) / bare[2]
    print(
        f"\nratio refactor/bare: targets per minute {batch[2] / batch[0] / base_rate:.2f} "
        f"(after load), {batch[2] / batch[3] / base_rate:.2f} (whole run); "
        f"non-model time per target {(batch[0] - batch[1]) / batch[2] / base_other:.2f}"
    )
    # the headline: all the targets in one run, as a user runs it
    full = tmp / "full"
    full.mkdir()
    build_project(full, targets)
    summary = run_refactor(full, settings_file, tmp / "full.jsonl", "--limit", str(targets))
    totals, timing = summary["totals"], summary["timing"]
    done, wall = summary["targets"]["processed"], totals["wall_seconds"]
    print(
        f"\none run of {done} targets: {wall:.2f} s wall ({timing['load_seconds']:.2f} s model "
        f"load, {timing['discovery_seconds']:.2f} s discovery), {done / wall * 60:.0f} targets/min, "
        f"model share {totals['model_seconds'] / wall:.1%}"
    )
    print(
        f"context engine saved {saved} of {whole} whole-file prompt tokens "
        f"({saved / max(whole, 1):.0%}); load average 1 min: before {load_before:.1f}, "
        f"after {os.getloadavg()[0]:.1f}"
    )


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
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per method")
    parser.add_argument("--threads", type=int, default=1, help="model threads (0 = all cores)")
    parser.add_argument("--model", type=Path, help="GGUF (default: the tiny test model)")
    parser.add_argument("--remote-servers", type=int, default=4)
    parser.add_argument("--remote-targets", type=int, default=40)
    parser.add_argument("--bare-round", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "server"), str(ROOT)]  # edgewise, and tests.tiny_gguf
    if args.bare_round:
        project, settings_file, limit = args.bare_round
        settings = json.loads(Path(settings_file).read_text("utf-8"))
        print(json.dumps(asyncio.run(bare_engine_loop(Path(project), settings, int(limit)))))
        return 0
    with tempfile.TemporaryDirectory(prefix="edgewise-batch-bench-") as name:
        tmp = Path(name)
        model = args.model
        if model is None:
            from tests.tiny_gguf import write_tiny_gguf

            model = write_tiny_gguf(tmp / "tiny.gguf", seed=0)
        embedded(tmp, model, args.targets, args.max_tokens, args.rounds, args.threads)
        remote(tmp, model, args.remote_servers, args.remote_targets, args.max_tokens)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
