"""Suggestions worth showing: edgewise against the context strategies of its peers, on the
same model (the packaged SmolLM2), the same token budget and greedy decoding, in one run.

Code nobody on the team wrote: a whole package tree from PyPI (`attrs`, its source
distribution, so imports resolve). At each sampled position the rest of the cursor line
is deleted; half of the cursors sit at a word boundary, half inside an identifier. Every
strategy completes there once:

- edgewise: `Engine.complete`, as the LSP server runs it (the context engine with
  snippets of the open files, token healing, minConfidence, the echo filter, the cut where
  the model stops being sure); *edgewise untrimmed* is the same generation with the cut
  off (answered from the result cache, no second model call);
- tabby: tabby-agent in a plain LSP client: the 20 lines above and the 20 below;
- window: a prefix/suffix window of the whole budget (llm-ls, Continue without snippets);
- window+snippets: Continue's split, the window in half the budget and snippets of the
  open files (Jaccard over sliding windows, the same finder edgewise uses) in the rest.

SmolLM2 has no FIM tokens, so every prompt is prefix-only: the lines below the cursor
cannot be sent to it (edgewise uses them to filter echoes). Peers show what the model
wrote up to the end of the line (or, where edgewise would complete a block, of the
block), as they do. "Open files" are up to four other modules of the same package, the
same for every strategy.

Figures: exact-line right (the suggestion's first line is the deleted text), first-word
right, precision (characters shown that were right, i.e. that match the original text
from the cursor on), right characters per request, share shown, p50 time per request,
echoes (a shown whole line that re-types one of the next lines, the line right above, or
the suggestion's own earlier line, where the original text differs). The machine is
shared: times are noisy, ratios of correctness are not.

    python bench/peers.py [--positions 40] [--minutes 10] [--budget 512] [--seed 0]

Positions are measured in a fixed random order until ``--positions`` or ``--minutes``
(whichever comes first; the figures say how many were measured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from bench.corpora import cache_root, pypi_sources  # noqa: E402
from bench.machine import smollm2_here  # noqa: E402
from edgewise.calibration.sampling import first_line, first_word  # noqa: E402
from edgewise.config import Settings  # noqa: E402
from edgewise.context.overlap import substantial  # noqa: E402
from edgewise.context.positions import Pos  # noqa: E402
from edgewise.context.snippets import SnippetFinder, query_words, render_snippet  # noqa: E402
from edgewise.engine import Engine  # noqa: E402
from edgewise.model.backend import GenerationRequest  # noqa: E402
from edgewise.pipeline.postprocess import (  # noqa: E402
    completion_stop,
    confident_length,
    wants_multiline,
)

PACKAGE = ("attrs", "25.3.0")
RESULTS = ROOT / "bench" / "results"
OPEN_FILES = 4
TABBY_LINES = 20
SNIPPET_SHARE = 0.5  # Continue: prefix 30 %, suffix 20 %, the rest for snippets
SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
STRATEGIES = ("edgewise", "edgewise untrimmed", "tabby 20+20", "window", "window+snippets")
PEERS = ("tabby 20+20", "window", "window+snippets")
WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Position:
    path: Path
    line: int
    column: int
    source: str
    mid_word: bool

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines(keepends=True)

    @property
    def line_text(self) -> str:
        return self.lines[self.line].rstrip("\r\n")

    @property
    def typed(self) -> str:
        return self.line_text[: self.column]

    @property
    def deleted(self) -> str:
        return self.line_text[self.column :].rstrip()

    @property
    def truth(self) -> str:
        """The original text from the cursor on (the deleted rest of the line first)."""
        return self.line_text[self.column :] + "\n" + "".join(self.lines[self.line + 1 :])

    def document(self) -> str:
        lines = self.lines
        lines[self.line] = self.typed + "\n"
        return "".join(lines)


@dataclass(frozen=True)
class Truth:
    """What a suggestion at a position is judged against (kept in the records)."""

    typed: str
    deleted: str
    truth: str  # the original text from the cursor on (its start)
    below: list[str]  # the next three non-blank lines (without surrounding space)
    above: str  # the line right above (likewise)
    mid_word: bool

    @classmethod
    def of(cls, position: Position) -> Truth:
        lines = position.lines
        below = [x.strip() for x in lines[position.line + 1 :] if x.strip()][:3]
        above = next((x.strip() for x in reversed(lines[: position.line]) if x.strip()), "")
        return cls(
            position.typed,
            position.deleted,
            position.truth[:4000],
            below,
            above,
            position.mid_word,
        )


def code_lines(text: str) -> list[int]:
    """Lines of code: not blank, not a comment, not inside a triple-quoted string."""
    out: list[int] = []
    inside = False
    for index, line in enumerate(text.splitlines()):
        body = line.strip()
        quotes = body.count('"""') + body.count("'''")
        if inside or quotes:
            if quotes % 2:
                inside = not inside
            continue
        if len(body) >= 4 and not body.startswith("#") and len(line) <= 160:
            out.append(index)
    return out


def sample(root: Path, count: int, seed: int) -> list[Position]:
    """``count`` positions, half at a word boundary and half inside an identifier."""
    rng = random.Random(seed)
    files = sorted(p for p in root.rglob("*.py") if "test" not in p.parts[-1])
    candidates = [(path, line) for path in files for line in code_lines(path.read_text())]
    rng.shuffle(candidates)
    wanted = {True: count // 2, False: count - count // 2}
    out: list[Position] = []
    for path, line in candidates:
        if not any(wanted.values()):
            break
        source = path.read_text()
        text = source.splitlines()[line]
        indent = len(text) - len(text.lstrip())
        mid = wanted[True] > 0 and (not wanted[False] or rng.random() < 0.5)
        columns = [
            c
            for c in range(indent + 1, len(text.rstrip()))
            if (WORD.match(text[c - 1]) is not None and WORD.match(text[c]) is not None) == mid
        ]
        if not columns:
            continue
        out.append(Position(path, line, rng.choice(columns), source, mid))
        wanted[mid] -= 1
    return out


def open_files(position: Position, root: Path, seed: int) -> list[Path]:
    """Up to OPEN_FILES other modules of the same package (the same for every strategy)."""
    siblings = sorted(p for p in position.path.parent.glob("*.py") if p != position.path)
    rng = random.Random(f"{seed}:{position.path.name}")
    return sorted(rng.sample(siblings, min(OPEN_FILES, len(siblings))))


@dataclass
class Outcome:
    shown: str
    ms: float
    pieces: list[str] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    hidden: bool = False  # under minConfidence: not shown (``shown``: what would be)


def right_chars(shown: str, truth: str) -> int:
    n = 0
    for a, b in zip(shown, truth, strict=False):
        if a != b:
            break
        n += 1
    return n


def echoes(shown: str, truth: Truth) -> bool:
    """A shown whole line that re-types one of the next three non-blank lines, the line
    right above, or an earlier line of the suggestion, where the original text differs."""
    offset = 0
    seen: list[str] = []
    for index, line in enumerate(shown.split("\n")):
        body = (truth.typed + line if index == 0 else line).strip()
        differs = not truth.truth.startswith(shown[: offset + len(line)])
        repeated = body in truth.below or body == truth.above or body in seen
        if differs and substantial(body) and repeated:
            return True
        seen.append(body)
        offset += len(line) + 1
    return False


class Peers:
    """The peers' prompts, generated on the same loaded model."""

    def __init__(self, engine: Engine, budget: int, max_tokens: int) -> None:
        self.engine = engine
        self.budget = budget
        self.max_tokens = max_tokens
        self.finder = SnippetFinder()

    async def complete(self, prompt: str, position: Position) -> Outcome:
        started = time.perf_counter()
        backend = await self.engine.host.backend()
        tokens = backend.bos() + backend.tokenize(prompt)
        multiline = wants_multiline(position.typed, "")
        request = GenerationRequest(
            prompt=tokens,
            max_tokens=self.max_tokens,
            temperature=0.0,
            seed=42,
            stop=completion_stop(position.typed, multiline),
            deadline=time.monotonic() + 600,
        )
        result = await self.engine.host.generate(request)
        ms = (time.perf_counter() - started) * 1000.0
        return Outcome(result.text.rstrip(), ms, list(result.pieces), list(result.probs))

    def count(self, text: str) -> int:
        return len(self.engine.host.loaded().tokenize(text))  # type: ignore[union-attr]

    def window(self, position: Position, budget: int) -> str:
        """As many whole lines above the cursor as fit ``budget`` tokens, then the typed
        part of the cursor line."""
        lines = position.lines[: position.line]
        left = budget - self.count(position.typed) - 2
        first = len(lines)
        while first > 0:
            cost = self.count(lines[first - 1])
            if cost > left:
                break
            left -= cost
            first -= 1
        return "".join(lines[first:]) + position.typed

    def tabby(self, position: Position) -> str:
        first = max(position.line - TABBY_LINES, 0)
        return "".join(position.lines[first : position.line]) + position.typed

    def snippets(self, position: Position, files: list[Path], root: Path) -> str:
        query = query_words(position.lines, position.line)
        documents = []
        for path in files:
            text = path.read_text()
            documents.append((path.as_uri(), text, text.splitlines(keepends=True)))
        found = self.finder.find(query, documents)
        room = int(self.budget * SNIPPET_SHARE)
        out = ""
        for snippet in found:
            name = Path(snippet.uri.removeprefix("file://")).relative_to(root).as_posix()
            text = render_snippet(snippet, name, "#")
            cost = self.count(text)
            if cost <= room:
                out += text
                room -= cost
        rest = self.budget - self.count(out)
        return out + self.window(position, rest)


async def edgewise(
    engine: Engine, position: Position, files: list[Path]
) -> tuple[Outcome, Outcome, dict[str, Any]]:
    """The trimmed and the untrimmed suggestion (one model call) and the report."""
    for path in files:
        engine.documents.open(path.as_uri(), path.read_text())
    uri = position.path.as_uri()
    started = time.perf_counter()
    done = await engine.complete(uri, position.document(), Pos(position.line, position.column))
    ms = (time.perf_counter() - started) * 1000.0
    whole = await engine.complete(
        uri, position.document(), Pos(position.line, position.column), trim=False
    )
    for path in [*files, position.path]:
        engine.close_document(path.as_uri())
    result = done.result
    pieces = list(result.pieces) if result else []
    probs = list(result.probs) if result else []
    trimmed = Outcome("" if done.hidden else done.text, ms, pieces, probs)
    untrimmed = Outcome(whole.text, ms, pieces, probs, hidden=done.hidden)
    return trimmed, untrimmed, done.report


@dataclass
class Tally:
    n: int = 0
    shown: int = 0
    exact: int = 0
    word: int = 0
    shown_chars: int = 0
    right: int = 0
    echoes: int = 0
    ms: list[float] = field(default_factory=list)

    def add(self, text: str, ms: float, truth: Truth) -> None:
        self.n += 1
        self.ms.append(ms)
        if not text.strip():
            return
        self.shown += 1
        self.exact += first_line(text) == truth.deleted
        wanted = first_word(truth.deleted)
        self.word += bool(wanted) and first_word(text) == wanted
        self.shown_chars += len(text)
        self.right += right_chars(text, truth.truth)
        self.echoes += echoes(text, truth)

    def row(self) -> dict[str, float]:
        n = max(self.n, 1)
        return {
            "exact_line": self.exact / n,
            "first_word": self.word / n,
            "precision": self.right / max(self.shown_chars, 1),
            "right_chars": self.right / n,
            "shown": self.shown / n,
            "p50_ms": statistics.median(self.ms) if self.ms else 0.0,
            "echoes": self.echoes,
        }


def cut(text: str, pieces: list[str], probs: list[float], threshold: float) -> str:
    """The untrimmed suggestion cut at ``threshold`` (the cut is the last step)."""
    found = confident_length(pieces, probs, threshold)
    if found is None or found[0] >= len(text):
        return text
    return text[: found[0]].rstrip()


def print_table(tallies: dict[str, Tally], title: str) -> dict[str, dict[str, float]]:
    rows = {name: tally.row() for name, tally in tallies.items()}
    print(f"\n{title}")
    header = f"{'':20}" + "".join(f"{name:>20}" for name in rows)
    print(header)
    for key, fmt in (
        ("exact_line", "{:.1%}"),
        ("first_word", "{:.1%}"),
        ("precision", "{:.1%}"),
        ("right_chars", "{:.1f}"),
        ("shown", "{:.1%}"),
        ("p50_ms", "{:.0f}"),
        ("echoes", "{:.0f}"),
    ):
        print(f"{key:20}" + "".join(f"{fmt.format(row[key]):>20}" for row in rows.values()))
    return rows


async def run(args: argparse.Namespace) -> dict[str, Any]:
    model = smollm2_here()
    if model is None:
        raise SystemExit(1)
    tree = pypi_sources(*PACKAGE)
    root = tree / "src"
    positions = sample(root, args.positions, args.seed)
    settings = Settings(
        model=str(model),
        context_budget=args.budget,
        context_length=2048,
        max_tokens=args.max_tokens,
        temperature=0.0,
        threads=args.threads,
        debounce_ms=0,
        max_completion_ms=600_000,  # quality, not latency: never cut a suggestion short
    )
    engine = Engine(settings, allow_download=False, report_log=False)
    engine.position_encoding = "utf-32"
    engine.workspace_roots = [root]
    peers = Peers(engine, args.budget, args.max_tokens)
    wanted = set(args.strategies.split(","))
    records: list[dict[str, Any]] = []
    started = time.monotonic()
    for index, position in enumerate(positions):
        if time.monotonic() - started > args.minutes * 60:
            print(f"  time limit: {index} of {len(positions)} positions measured", file=sys.stderr)
            break
        files = open_files(position, root, args.seed)
        trimmed, untrimmed, report = await edgewise(engine, position, files)
        record: dict[str, Any] = {
            "path": str(position.path.relative_to(root)),
            "line": position.line,
            "column": position.column,
            "truth": asdict(Truth.of(position)),
            "edgewise": {
                "text": trimmed.shown,
                "whole": untrimmed.shown,
                "hidden": untrimmed.hidden,
                "ms": trimmed.ms,
                "pieces": trimmed.pieces,
                "probs": trimmed.probs,
                "score": report["confidence"]["score"],
                "cuts": report.get("cuts", []),
            },
        }
        prompts = {
            "tabby 20+20": lambda p=position: peers.tabby(p),
            "window": lambda p=position: peers.window(p, args.budget),
            "window+snippets": lambda p=position, f=files: peers.snippets(p, f, root),
        }
        for name, prompt in prompts.items():
            if name in wanted or "all" in wanted:
                outcome = await peers.complete(prompt(), position)
                record[name] = {"text": outcome.shown, "ms": outcome.ms}
        records.append(record)
        if (index + 1) % args.progress == 0:
            rate = (time.monotonic() - started) / (index + 1)
            print(f"  {index + 1}/{len(positions)} positions ({rate:.1f} s each)", file=sys.stderr)
    engine.close()
    args.records.parent.mkdir(parents=True, exist_ok=True)
    with args.records.open("w") as sink:
        sink.write(json.dumps({"config": config(args)}) + "\n")
        for record in records:
            sink.write(json.dumps(record) + "\n")
    return analyze(config(args), records)


def config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "package": f"{PACKAGE[0]}=={PACKAGE[1]}",
        "budget": args.budget,
        "seed": args.seed,
        "max_tokens": args.max_tokens,
    }


def analyze(setup: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The tables, from the records of one run."""
    tallies = {name: Tally() for name in STRATEGIES}
    groups = {(g, name): Tally() for g in ("boundary", "mid-word") for name in STRATEGIES}
    sweep = {t: Tally() for t in SWEEP}
    shown_all = {t: Tally() for t in (0.0, 0.5)}
    cuts: dict[str, int] = {}
    for record in records:
        truth = Truth(**record["truth"])
        ours = record["edgewise"]
        whole = "" if ours["hidden"] else ours["whole"]
        texts = {"edgewise": ours["text"], "edgewise untrimmed": whole}
        times = {"edgewise": ours["ms"], "edgewise untrimmed": ours["ms"]}
        for name in PEERS:
            if name in record:
                texts[name], times[name] = record[name]["text"], record[name]["ms"]
        group = "mid-word" if truth.mid_word else "boundary"
        for name, text in texts.items():
            tallies[name].add(text, times[name], truth)
            groups[(group, name)].add(text, times[name], truth)
        for threshold in SWEEP:
            sweep[threshold].add(cut(whole, ours["pieces"], ours["probs"], threshold), 0, truth)
        for threshold in shown_all:  # minConfidence off: every suggestion shown
            text = cut(ours["whole"], ours["pieces"], ours["probs"], threshold)
            shown_all[threshold].add(text, 0, truth)
        for c in ours["cuts"]:
            cuts[c["reason"]] = cuts.get(c["reason"], 0) + 1
    present = [name for name in STRATEGIES if tallies[name].n]
    print(
        f"{setup['package']} (src/), {len(records)} positions "
        f"({sum(r['truth']['mid_word'] for r in records)} inside an identifier), budget "
        f"{setup['budget']} tokens, greedy, max {setup['max_tokens']} tokens, "
        f"seed {setup['seed']}"
    )
    rows = print_table({n: tallies[n] for n in present}, "all positions")
    by_group = {}
    for group in ("boundary", "mid-word"):
        by_group[group] = print_table(
            {name: groups[(group, name)] for name in present}, f"cursor at a {group}"
        )
    sweep_rows = print_table(
        {f"cut < {t}": sweep[t] for t in SWEEP}, "edgewise, the cut's threshold (trimBelow)"
    )
    all_rows = print_table(
        {f"cut < {t}" if t else "uncut": shown_all[t] for t in shown_all},
        "edgewise with minConfidence 0 (every suggestion shown)",
    )
    out: dict[str, Any] = {
        **setup,
        "positions": len(records),
        "rows": rows,
        "by_group": by_group,
        "sweep": {str(k): v for k, v in sweep_rows.items()},
        "min_confidence_off": all_rows,
        "cuts": cuts,
    }
    print(f"\ncuts edgewise made: {json.dumps(cuts)}")
    peers_here = [name for name in PEERS if name in rows]
    ours, whole_row = rows["edgewise"], rows["edgewise untrimmed"]
    precision_ratio = ours["precision"] / max(whole_row["precision"], 1e-9)
    right_loss = 1 - ours["right_chars"] / max(whole_row["right_chars"], 1e-9)
    print(
        f"precision: {ours['precision']:.1%} vs untrimmed {whole_row['precision']:.1%}: "
        f"{precision_ratio:.2f}x (target >= 1.5x) at {right_loss:.0%} fewer right characters "
        f"(target <= 20 %)"
    )
    out.update(precision_ratio=precision_ratio, right_chars_loss=right_loss)
    if peers_here:
        best_peer = max(peers_here, key=lambda name: rows[name]["exact_line"])
        exact_ratio = ours["exact_line"] / max(rows[best_peer]["exact_line"], 1e-9)
        print(
            f"exact-line right: edgewise {ours['exact_line']:.1%} vs best peer ({best_peer}) "
            f"{rows[best_peer]['exact_line']:.1%}: {exact_ratio:.2f}x (target >= 1.3x)"
        )
        echoes_shown = ", ".join(f"{name} {rows[name]['echoes']}" for name in peers_here)
        print(f"echoes shown: edgewise {ours['echoes']} (target 0); peers {echoes_shown}")
        out.update(best_peer=best_peer, exact_ratio=exact_ratio)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=40)
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="no new position after this long"
    )
    parser.add_argument("--budget", type=int, default=512)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--progress", type=int, default=10, help="positions per progress line")
    parser.add_argument(
        "--strategies",
        default="all",
        help="peers to run besides edgewise: all, or a comma list of " + ", ".join(PEERS),
    )
    parser.add_argument(
        "--records",
        type=Path,
        default=cache_root() / "peers-records.jsonl",
        help="every position's suggestions, written by a run",
    )
    parser.add_argument("--analyze", type=Path, help="only the tables, from a run's records")
    parser.add_argument("--out", type=Path, default=RESULTS / "peers.json")
    args = parser.parse_args()
    if args.analyze:
        lines = args.analyze.read_text().splitlines()
        setup = json.loads(lines[0])["config"]
        out = analyze(setup, [json.loads(line) for line in lines[1:]])
    else:
        out = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwritten {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
