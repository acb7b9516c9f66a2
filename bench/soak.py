"""Soak run: 10,000 mixed requests against `edgewise serve` on the tiny model.

Edits, inline completions, cancellations, code-action lists and resolves, from a
scripted client over stdio, with hostile inputs mixed in (5 %): frames nested 1,000 deep,
NaN and 1e308 in settings, insertions past the end of a line (CRLF included) and at
column 2^31-1, notifications naming a named pipe and /dev/zero, a resolve whose data is
nested 400 deep. Prints answered requests, errors by kind, latency p50/p99, peak RSS and
RSS growth after warm-up (server and model process), crashes, hangs and desynchronised
documents.

    .venv/bin/python bench/soak.py [--requests 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lsp.sample_files import PYTHON, TYPESCRIPT  # noqa: E402
from tests.robustness.stdio_client import RawClient  # noqa: E402

WORDS = ["value", " = ", "compute(", ")", "\n    ", "return ", "x", "😀", "é", "\r\n", "# note\n"]


def rss_kb(pid: int, key: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from tests.tiny_gguf import write_tiny_gguf

    scratch = Path(tempfile.mkdtemp())
    model = write_tiny_gguf(scratch / "tiny.gguf")
    # the soak's reports go to a scratch ledger, not the user's
    client = RawClient(env={"EDGEWISE_STATE_DIR": str(scratch / "state")})
    options: dict[str, object] = {
        "model": str(model),
        "debounceMs": 0,
        "minConfidence": 0,
        "maxTokens": 8,
    }
    client.initialize(
        options,
        capabilities={
            "textDocument": {
                "codeAction": {
                    "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["refactor"]}},
                    "resolveSupport": {"properties": ["edit"]},
                }
            }
        },
    )
    docs = {
        "file:///work/project/a.py": (PYTHON, "python"),
        "file:///work/project/b.ts": (TYPESCRIPT, "typescript"),
    }
    texts = {}
    versions = {}
    for uri, (text, lang) in docs.items():
        client.open(uri, text, lang)
        texts[uri] = text
        versions[uri] = 1

    latencies: list[float] = []
    errors: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    hangs = desync = 0
    rss_after_warmup = 0
    curve: list[tuple[int, float]] = []  # (operations, RSS MB) every 1000 operations
    started = time.monotonic()
    sent = 0
    last_check = 0
    fifo = scratch / "pipe.py"
    os.mkfifo(fifo)
    hostile = Hostile(client, rng, fifo, options)
    while sent < args.requests:
        uri = rng.choice(list(docs))
        text = texts[uri]
        if rng.random() < 0.05:
            kinds["hostile"] += 1
            sent += 1
            edited = hostile.send(uri, text, versions)
            if edited is not None:
                texts[uri] = edited
            if client.proc.poll() is not None:
                break
            continue
        roll = rng.random()
        kind = (
            "edit" if roll < 0.35 else
            "complete" if roll < 0.70 else
            "cancelled" if roll < 0.85 else
            "actions" if roll < 0.95 else
            "resolve"
        )  # fmt: skip
        kinds[kind] += 1
        sent += 1
        if kind == "edit":
            start = rng.randrange(len(text) + 1)
            end = min(len(text), start + rng.choice([0, 0, 1, 3]))
            insert = rng.choice(WORDS) if rng.random() < 0.8 else ""
            pre = text[:start]
            line = pre.count("\n")
            col = len(pre[pre.rfind("\n") + 1 :].encode("utf-16-le")) // 2
            mid = text[start:end]
            end_line = line + mid.count("\n")
            tail = (pre + mid)[(pre + mid).rfind("\n") + 1 :]
            end_col = len(tail.encode("utf-16-le")) // 2
            if "\r" in text[max(0, start - 1) : end + 1]:
                continue  # keep the bench's own position maths simple around CR
            texts[uri] = pre + insert + text[end:]
            versions[uri] += 1
            change(client, uri, versions[uri], (line, col), (end_line, end_col), insert)
            continue
        lines = text.split("\n")
        pos = {"line": rng.randrange(len(lines)), "character": rng.randrange(60)}
        t0 = time.monotonic()
        try:
            if kind in ("complete", "cancelled"):
                msg_id = client.request(
                    "textDocument/inlineCompletion",
                    {"textDocument": {"uri": uri}, "position": pos, "context": {"triggerKind": 2}},
                )
                if kind == "cancelled":
                    client.notify("$/cancelRequest", {"id": msg_id})
                reply = client.response_to(msg_id, timeout=60)
            else:
                reply = client.call(
                    "textDocument/codeAction",
                    {
                        "textDocument": {"uri": uri},
                        "range": {"start": pos, "end": pos},
                        "context": {"diagnostics": []},
                    },
                    timeout=60,
                )
                if kind == "resolve" and reply.get("result"):
                    reply = client.call("codeAction/resolve", reply["result"][0], timeout=120)
        except AssertionError:
            hangs += 1
            break
        latencies.append((time.monotonic() - t0) * 1000)
        if "error" in reply:
            errors[str(reply["error"]["code"])] += 1
        if client.proc.poll() is not None:
            break
        if sent - last_check >= 500:
            last_check = sent
            for check_uri, check_text in texts.items():
                state = client.call(
                    "workspace/executeCommand",
                    {"command": "edgewise.documentState", "arguments": [check_uri]},
                )["result"]
                if state["sha256"] != hashlib.sha256(check_text.encode()).hexdigest():
                    desync += 1
            if sent >= 1000 and not rss_after_warmup:
                rss_after_warmup = rss_kb(client.proc.pid)
            if sent // 1000 > len(curve):
                curve.append((sent, rss_kb(client.proc.pid) / 1024))
    elapsed = time.monotonic() - started
    crashed = client.proc.poll() is not None
    rss_end = 0 if crashed else rss_kb(client.proc.pid)
    peak = 0 if crashed else rss_kb(client.proc.pid, "VmHWM")
    client.close()
    answered = len(latencies)
    print(f"soak: {sent} operations in {elapsed:.0f} s ({dict(kinds)})")
    print(f"{'requests answered':<32}{answered}")
    print(f"{'errors by JSON-RPC code':<32}{dict(errors) or 'none'} (-32800 = cancelled, expected)")
    print(
        f"{'latency p50 / p99 (ms)':<32}{percentile(latencies, 0.5):.1f} / {percentile(latencies, 0.99):.1f}"
    )
    print(f"{'mean latency (ms)':<32}{statistics.fmean(latencies) if latencies else 0:.1f}")
    print(f"{'peak RSS (MB)':<32}{peak / 1024:.1f}")
    growth = (rss_end - rss_after_warmup) / 1024 if rss_after_warmup else float("nan")
    print(f"{'RSS growth after warm-up (MB)':<32}{growth:.1f}  (target < 50)")
    print(f"{'crashes / hangs / desyncs':<32}{int(crashed)} / {hangs} / {desync}")
    print(f"{'RSS every 1000 operations (MB)':<32}" + ", ".join(f"{mb:.0f}" for _, mb in curve))
    print(f"{'hostile inputs by kind':<32}{dict(hostile.kinds)}")
    print(f"{'hostile requests unanswered':<32}{hostile.unanswered}")
    ok = not crashed and hangs == 0 and desync == 0 and growth < 50 and not hostile.unanswered
    return 0 if ok else 1


def change(
    client: RawClient,
    uri: str,
    version: int,
    start: tuple[int, int],
    end: tuple[int, int],
    text: str,
) -> None:
    """One incremental didChange replacing ``start``-``end`` (line, UTF-16 column)."""
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": start[0], "character": start[1]},
                        "end": {"line": end[0], "character": end[1]},
                    },
                    "text": text,
                }
            ],
        },
    )


class Hostile:
    """Inputs that broke servers before: each must be answered (or ignored, for a
    notification) and change nothing but what the spec says."""

    def __init__(
        self, client: RawClient, rng: random.Random, fifo: Path, options: dict[str, object]
    ) -> None:
        self.client = client
        self.options = options  # settings are sent whole: the rest stays as it was
        self.rng = rng
        self.fifo = fifo
        self.kinds: Counter[str] = Counter()
        self.unanswered = 0

    def send(self, uri: str, text: str, versions: dict[str, int]) -> str | None:
        """Sends one hostile input; returns the document's new text if it edited it."""
        kind = self.rng.choice(
            ["deep_frame", "huge_settings", "overflow_insert", "fifo", "deep_resolve"]
        )
        self.kinds[kind] += 1
        client = self.client
        if kind == "deep_frame":
            depth = self.rng.choice([200, 1000, 5000])
            body = (
                '{"jsonrpc": "2.0", "id": 999999, "method": "textDocument/hover", "params": '
                + "[" * depth
                + "]" * depth
                + "}"
            ).encode()
            client.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.expect(999999)
        elif kind == "huge_settings":
            value = self.rng.choice([1e308, float("nan"), 10**400])
            body = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "workspace/didChangeConfiguration",
                    "params": {"settings": {**self.options, "pricing": {"deviceWatts": value}}},
                }
            ).encode()
            client.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        elif kind == "overflow_insert":
            lines = text.split("\n")
            line = self.rng.randrange(len(lines))
            content = lines[line][:-1] if lines[line].endswith("\r") else lines[line]
            width = len(content.encode("utf-16-le")) // 2
            # at most 2^31-1: LSP's uinteger (a larger column is an invalid message)
            column = min(width + self.rng.choice([1, 2, 7, 2**31]), 2**31 - 1)
            insert = self.rng.choice(["x", "é", "😀", " # end"])
            # the spec: a column past the line's end means the end of its content
            offset = sum(len(x) + 1 for x in lines[:line]) + len(content)
            versions[uri] += 1
            change(client, uri, versions[uri], (line, column), (line, column), insert)
            return text[:offset] + insert + text[offset:]
        elif kind == "fifo":
            target = self.rng.choice([self.fifo.as_uri(), "file:///dev/zero"])
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": target, "version": 2},
                    "contentChanges": [{"text": "x"}],
                },
            )
            msg_id = client.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": target},
                    "position": {"line": 0, "character": 0},
                    "context": {"triggerKind": 1},
                },
            )
            self.expect(msg_id)
        else:  # deep_resolve
            data: object = {}
            for _ in range(400):
                data = {"d": data}
            msg_id = client.request(
                "codeAction/resolve", {"title": "edgewise: hostile", "data": data}
            )
            self.expect(msg_id)
        return None

    def expect(self, msg_id: int) -> None:
        try:
            self.client.response_to(msg_id, timeout=30)
        except AssertionError:
            self.unanswered += 1


if __name__ == "__main__":
    raise SystemExit(main())
