"""Does edgewise's confidence predict correctness? Measured on SmolLM2 on code nobody on
the team wrote (this interpreter's standard library + an npm package's TypeScript).

At each sampled position inside a line the rest of the line is deleted and SmolLM2
completes one line at temperature 0. Right = the first line equals the deleted text
(trailing space ignored); also first-word right. Positions are split by file into three
disjoint sets: *select* and *fit* together are the development positions (the score
formula is chosen on them and the calibration map is fitted on them, Platt or isotonic
by cross-validation), and *test* gives every figure reported. docs/benchmarks.md gives
the figures of two independent runs (`--seed 0`, `--seed 1`); bench/results/history.json
keeps an earlier protocol's (the formula chosen on *select*, the map fitted on *fit* alone).

    python bench/calibration.py [--positions 720] [--per-line 3] [--budget 256] [--threads 1]

Samples are appended to bench/results/calibration-samples.jsonl as they are measured;
a rerun with the same settings resumes, `--analyze` only recomputes the figures.
`--bundle` also writes the Platt map fitted on the *fit* set as the calibration edgewise
ships for the packaged SmolLM2 (server/edgewise/calibration/bundled/<sha256>.json).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "server"), str(ROOT)]

from bench.corpora import NPM_PACKAGE, STDLIB_EXCLUDE, npm_sources, stdlib_root  # noqa: E402
from bench.formulas import FORMULAS  # noqa: E402
from edgewise.calibration.fit import (  # noqa: E402
    apply_isotonic,
    apply_platt,
    auroc,
    choose_method,
    ece,
    fit_isotonic,
    fit_platt,
    reliability,
)
from edgewise.calibration.measure import measure_one  # noqa: E402
from edgewise.calibration.sampling import Position, sample_positions  # noqa: E402
from edgewise.calibration.store import CalibrationMap, CalibrationStore, save_map  # noqa: E402
from edgewise.config import Settings  # noqa: E402
from edgewise.engine import Engine  # noqa: E402
from edgewise.model.registry import PACKAGED_NAME, packaged_model  # noqa: E402
from edgewise.report.confidence import SCORE_FORMULA  # noqa: E402

RESULTS = ROOT / "bench" / "results"
THRESHOLDS = [0.0, 0.05] + [round(0.1 * i, 1) for i in range(1, 10)]
REPORTED = SCORE_FORMULA  # what reports carry as the raw score (report/confidence.py)


def split_of(path: str, root: Path) -> str:
    """select 20 % | fit 30 % | test 50 %, by file: the sets share no code."""
    digit = int(hashlib.sha1(os.path.relpath(path, root).encode()).hexdigest(), 16) % 10
    return "select" if digit < 2 else "fit" if digit < 5 else "test"


def positions_for(count: int, seed: int, per_line: int) -> list[tuple[str, Position, Path]]:
    stdlib, npm = stdlib_root(), npm_sources()
    half = count // 2
    out = []
    for root, n, exclude in ((stdlib, count - half, STDLIB_EXCLUDE), (npm, half, frozenset())):
        for pos in sample_positions([root], n, seed=seed, exclude=exclude, per_line=per_line):
            out.append((split_of(str(pos.path), root), pos, root))
    return out


def key(record: dict[str, Any]) -> tuple[str, int, int, bool]:
    return (record["path"], record["line"], record["column"], record["heal"])


async def collect(args: argparse.Namespace, out: Path) -> None:
    config = {
        "positions": args.positions,
        "budget": args.budget,
        "seed": args.seed,
        "per_line": args.per_line,
    }
    done: set[tuple[str, int, int, bool]] = set()
    if out.exists():
        lines = out.read_text().splitlines()
        header = json.loads(lines[0]) if lines else {}
        if header.get("config") != config:
            raise SystemExit(f"{out} holds another configuration {header}; delete it or --analyze")
        done = {key(json.loads(line)) for line in lines[1:]}
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"config": config}) + "\n")
    settings = Settings(
        model=str(packaged_model()),
        context_budget=args.budget,
        context_length=2048,
        max_tokens=48,
        temperature=0.0,
        threads=args.threads,
        debounce_ms=0,
        max_completion_ms=600_000,  # quality, not latency: never cut a line short
    )
    engine = Engine(settings, allow_download=False, report_log=False)  # not the user's ledger
    # raw scores only: no user map, no bundled map
    engine.calibrations = CalibrationStore(base=out.parent / "no-calibration", bundled=False)
    plan = positions_for(args.positions, args.seed, args.per_line)
    started = time.monotonic()
    measured = 0
    with out.open("a") as sink:
        for index, (split, pos, _root) in enumerate(plan):
            for heal in (True, False) if split == "test" else (True,):
                record_key = (str(pos.path), pos.line, pos.column, heal)
                if record_key in done:
                    continue
                sample = await measure_one(engine, pos, heal=heal)
                record = {"set": split, "heal": heal, **sample.to_dict()}
                sink.write(json.dumps(record) + "\n")
                sink.flush()
                measured += 1
            if (index + 1) % 25 == 0:
                rate = (time.monotonic() - started) / max(measured, 1)
                print(
                    f"  {index + 1}/{len(plan)} positions ({rate:.1f} s per completion)",
                    file=sys.stderr,
                    flush=True,
                )
    engine.close()


# --- analysis -------------------------------------------------------------------------


def load(out: Path, also: list[Path] | None = None) -> list[dict[str, Any]]:
    """Samples of one run, or of several (``--combine``), each position once."""
    seen: dict[tuple[str, int, int, bool], dict[str, Any]] = {}
    for path in [out, *(also or [])]:
        for line in path.read_text().splitlines()[1:]:
            record = json.loads(line)
            seen.setdefault(key(record), record)
    return list(seen.values())


def suggested(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["suggestion"].strip() and r["probs"]]


def formula_values(records: list[dict[str, Any]], name: str) -> np.ndarray:
    fn = FORMULAS[name]
    values = [fn(r["pieces"], r["probs"], r["first_margin"]) for r in records]
    return np.array([-1.0 if v is None else v for v in values], dtype=np.float64)


def labels(records: list[dict[str, Any]], which: str) -> np.ndarray:
    return np.array([r[which] for r in records], dtype=np.float64)


def threshold_rows(score: np.ndarray, right: np.ndarray) -> list[dict[str, float]]:
    rows = []
    for t in THRESHOLDS:
        shown = score >= t
        hidden = ~shown
        row = {
            "min_confidence": t,
            "hidden": float(hidden.mean()),
            "right_shown": float(right[shown].mean()) if shown.any() else float("nan"),
            "right_hidden": float(right[hidden].mean()) if hidden.any() else float("nan"),
        }
        row["lift"] = row["right_shown"] / right.mean() if right.mean() else float("nan")
        rows.append(row)
    return rows


def recommend(dev_score: np.ndarray, score: np.ndarray, right: np.ndarray) -> dict[str, float]:
    """The default, chosen on the development positions: the largest multiple of 0.05
    that hides at most 45 % of them (a margin under the target's half). Its figures are
    then measured on the test set."""
    t = 0.0
    for candidate in np.round(np.arange(0.05, 1.0, 0.05), 2):
        if (dev_score < candidate).mean() <= 0.45:
            t = float(candidate)
    shown = score >= t
    best = {"min_confidence": t, "dev_hidden": float((dev_score < t).mean())}
    best["hidden"] = float((~shown).mean())
    best["right_shown"] = float(right[shown].mean())
    best["right_all"] = float(right.mean())
    best["right_hidden"] = float(right[~shown].mean()) if (~shown).any() else float("nan")
    best["lift"] = best["right_shown"] / best["right_all"] if best["right_all"] else float("nan")
    best["shown_vs_hidden"] = (
        best["right_shown"] / best["right_hidden"] if best["right_hidden"] else float("inf")
    )
    return best


def draw(path: Path, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 7.5), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for (name, (probs, right)), colour in zip(
        curves.items(), ("tab:red", "tab:blue"), strict=False
    ):
        bins = [b for b in reliability(probs, right) if b.count]
        top.plot(
            [b.mean_score for b in bins],
            [b.share_right for b in bins],
            marker="o",
            color=colour,
            label=f"{name} (ECE {ece(probs, right):.3f})",
        )
        for b in bins:
            top.annotate(str(b.count), (b.mean_score, b.share_right), fontsize=7, color=colour)
        bottom.hist(probs, bins=20, range=(0, 1), alpha=0.5, color=colour, label=name)
    top.set_ylabel("share right (first line exact)")
    top.set_title("SmolLM2-135M: reliability on held-out code (test set)")
    top.legend(loc="upper left", fontsize=8)
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    bottom.set_xlabel("confidence score")
    bottom.set_ylabel("suggestions")
    bottom.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_bundle(
    method: str,
    params: dict[str, Any],
    fit: list[dict[str, Any]],
    calibrated_test: np.ndarray,
    y_test: np.ndarray,
) -> Path:
    import datetime as dt

    path = packaged_model()
    assert path is not None
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    table = [
        {
            "low": b.low,
            "high": b.high,
            "count": b.count,
            "mean_calibrated": round(b.mean_score, 4) if b.count else None,
            "share_right": round(b.share_right, 4) if b.count else None,
        }
        for b in reliability(calibrated_test, y_test)
    ]
    cal = CalibrationMap(
        model_sha256=sha,
        model_name=PACKAGED_NAME,
        method=method,
        params=params,
        samples=len(fit),
        right=int(sum(r["right"] for r in fit)),
        raw_score=REPORTED,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        source=f"bench/calibration.py: Python standard library + npm {NPM_PACKAGE} "
        "(development positions)",
        table=table,
        origin="bundled",
    )
    return save_map(cal, ROOT / "server" / "edgewise" / "calibration" / "bundled")


def analyze(out: Path, bundle: bool = False, also: list[Path] | None = None) -> dict[str, Any]:
    records = load(out, also)
    healed = [r for r in records if r["heal"]]
    by_set = {name: [r for r in healed if r["set"] == name] for name in ("select", "fit", "test")}
    test_all = by_set["test"]
    select, fit, test = (suggested(by_set[n]) for n in ("select", "fit", "test"))
    result: dict[str, Any] = {
        "positions": {n: len(v) for n, v in by_set.items()},
        "suggestions": {"select": len(select), "fit": len(fit), "test": len(test)},
    }
    print(f"positions: {result['positions']}; with a suggestion: {result['suggestions']}")
    for lang in sorted({r["language"] for r in test_all}):
        part = [r for r in test_all if r["language"] == lang]
        print(
            f"  test {lang:<11} {len(part):>4} positions: exact right "
            f"{np.mean([r['right'] for r in part]):.1%}, first word right "
            f"{np.mean([r['word_right'] for r in part]):.1%}"
        )

    # 1. the score formula, chosen on the development positions (select + fit)
    print(
        "\nAUROC (suggestions; formula chosen on the development positions = select + fit, "
        "figures on the test set)"
    )
    print(
        f"  {'formula':<30} {'dev exact':>10} {'dev word':>9} {'test exact':>11} "
        f"{'test word':>10}   select set alone: exact, word"
    )
    table = {}
    for name in FORMULAS:
        table[name] = {
            f"{s}_{lab}": auroc(formula_values(rs, name), labels(rs, col))
            for s, rs in (("select", select), ("dev", select + fit), ("test", test))
            for lab, col in (("exact", "right"), ("word", "word_right"))
        }
    # the target covers both labels: the formula whose worse AUROC is the best
    chosen = max(table, key=lambda n: min(table[n]["dev_exact"], table[n]["dev_word"]))
    for name, row in table.items():
        mark = " ← chosen" if name == chosen else ""
        print(
            f"  {name:<30} {row['dev_exact']:>10.3f} {row['dev_word']:>9.3f} "
            f"{row['test_exact']:>11.3f} {row['test_word']:>10.3f}   "
            f"{row['select_exact']:.3f}, {row['select_word']:.3f}{mark}"
        )
    result["auroc"] = table
    result["chosen_formula"] = chosen
    result["reported_formula"] = REPORTED
    if chosen != REPORTED:
        print(f"  NOTE: reports carry {REPORTED!r}, the development set prefers {chosen!r}")

    # 2. calibration of the reported score, fitted on the development positions
    dev = select + fit
    raw_fit, y_fit = formula_values(dev, REPORTED), labels(dev, "right")
    raw_test, y_test = formula_values(test, REPORTED), labels(test, "right")
    platt = fit_platt(raw_fit, y_fit)
    iso = fit_isotonic(raw_fit, y_fit)
    method = choose_method(raw_fit, y_fit)  # cross-validated inside the fit set
    fitted = {"platt": apply_platt(platt, raw_test), "isotonic": apply_isotonic(iso, raw_test)}
    cal = fitted[method]
    result["ece"] = {
        "raw": ece(raw_test, y_test),
        "platt": ece(fitted["platt"], y_test),
        "isotonic": ece(fitted["isotonic"], y_test),
        "method": method,
    }
    result["maps"] = {
        "platt": {"a": platt[0], "b": platt[1]},
        "isotonic": {"knots": iso[0], "values": iso[1]},
    }
    print(
        f"\nECE on the test set (exact right, 10 bins): raw {result['ece']['raw']:.3f} → "
        f"calibrated {result['ece'][method]:.3f} ({method}, chosen by 5-fold cross-validation "
        f"on the development positions; Platt {result['ece']['platt']:.3f}, isotonic "
        f"{result['ece']['isotonic']:.3f}); maps fitted on the development positions "
        f"({len(dev)} suggestions)"
    )
    print(f"  reliability after calibration ({method}):  bin   n   mean score  share right")
    for b in reliability(cal, y_test):
        if b.count:
            print(
                f"    {b.low:.1f}–{b.high:.1f} {b.count:>10} {b.mean_score:>12.3f} "
                f"{b.share_right:>12.3f}"
            )
    png = out.with_name(out.name.replace("samples", "reliability")).with_suffix(".png")
    draw(png, {f"raw ({REPORTED})": (raw_test, y_test), f"calibrated ({method})": (cal, y_test)})
    result["diagram"] = os.path.relpath(png, ROOT)
    print(f"  reliability diagram: {result['diagram']}")

    # 3. minConfidence: what is hidden, how often the shown ones are right
    for label, score in (("calibrated score", cal), ("raw score (uncalibrated)", raw_test)):
        rows = threshold_rows(score, y_test)
        result[f"thresholds_{label.split()[0]}"] = rows
        print(
            f"\nminConfidence on the {label} (test set, {len(test)} suggestions, "
            f"{y_test.mean():.1%} right overall)"
        )
        print(f"  {'min':>4} {'hidden':>7} {'right shown':>12} {'× all':>6} {'right hidden':>13}")
        for row in rows:
            print(
                f"  {row['min_confidence']:>4.2f} {row['hidden']:>7.1%} {row['right_shown']:>12.1%} "
                f"{row['lift']:>6.2f} {row['right_hidden']:>13.1%}"
            )
    dev_cal = apply_platt(platt, raw_fit) if method == "platt" else apply_isotonic(iso, raw_fit)
    rec = recommend(dev_cal, cal, y_test)
    result["recommended"] = rec
    print(
        f"\nrecommended minConfidence {rec['min_confidence']:.2f} (calibrated; the largest "
        f"multiple of 0.05 hiding at most 45 % of the development positions: "
        f"{rec['dev_hidden']:.1%}); on the test set it hides {rec['hidden']:.1%}, the shown "
        f"are right {rec['right_shown']:.1%} vs {rec['right_all']:.1%} of all "
        f"({rec['lift']:.2f}×; hiding h can give at most 1/(1−h) = "
        f"{1 / max(1 - rec['hidden'], 1e-9):.2f}×) and {rec['shown_vs_hidden']:.1f}× as often as the "
        f"hidden ({rec['right_hidden']:.1%})"
    )
    if rec["min_confidence"] != Settings().min_confidence:
        print(f"  NOTE: the shipped default is {Settings().min_confidence}")

    # 4. token healing, same test positions
    pairs = {}
    for r in records:
        if r["set"] == "test":
            pairs.setdefault((r["path"], r["line"], r["column"]), {})[r["heal"]] = r
    both = [p for p in pairs.values() if True in p and False in p]
    heal_rows = {}
    for label, subset in (("all", both), ("mid-word", [p for p in both if p[True]["mid_word"]])):
        if not subset:
            continue
        heal_rows[label] = {
            "positions": len(subset),
            "exact_heal": float(np.mean([p[True]["right"] for p in subset])),
            "exact_plain": float(np.mean([p[False]["right"] for p in subset])),
            "word_heal": float(np.mean([p[True]["word_right"] for p in subset])),
            "word_plain": float(np.mean([p[False]["word_right"] for p in subset])),
        }
    result["healing"] = heal_rows
    print("\ntoken healing (test positions, exact right / first word right)")
    for label, row in heal_rows.items():
        ratio = row["exact_heal"] / row["exact_plain"] if row["exact_plain"] else float("inf")
        print(
            f"  {label:<9} {row['positions']:>4} positions: with healing {row['exact_heal']:.1%} / "
            f"{row['word_heal']:.1%}, without {row['exact_plain']:.1%} / {row['word_plain']:.1%} "
            f"({ratio:.2f}× exact)"
        )
    if bundle:
        params = result["maps"][method]
        path = write_bundle(method, params, dev, cal, y_test)
        result["bundled_map"] = os.path.relpath(path, ROOT)
        print(f"\nbundled calibration map written to {result['bundled_map']}")
    ms = np.array([r["ms"] for r in healed])
    result["ms_per_completion"] = {"p50": float(np.median(ms)), "mean": float(ms.mean())}
    summary = out.with_name(out.name.replace("-samples", "")).with_suffix(".json")
    summary.write_text(json.dumps(result, indent=2, default=float))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=720)
    parser.add_argument("--budget", type=int, default=256, help="context budget in tokens")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--per-line", type=int, default=3, help="cursors per sampled line (share one prompt)"
    )
    parser.add_argument("--out", type=Path, help="samples file (default: per seed)")
    parser.add_argument("--analyze", action="store_true", help="only recompute the figures")
    parser.add_argument("--bundle", action="store_true", help="write the bundled SmolLM2 map")
    parser.add_argument(
        "--combine", type=Path, nargs="*", default=[], help="analyze these runs' samples too"
    )
    args = parser.parse_args()
    if args.out is None:
        suffix = "" if args.seed == 0 else f"-seed{args.seed}"
        args.out = RESULTS / f"calibration-samples{suffix}.jsonl"
    if not args.analyze:
        print(
            f"SmolLM2 ({packaged_model()}), {args.positions} positions from "
            f"{stdlib_root()} and npm {NPM_PACKAGE}, budget {args.budget}",
            file=sys.stderr,
        )
        asyncio.run(collect(args, args.out))
    if args.combine:  # figures of the union go to their own files
        union = args.out.with_name(args.out.name.replace("samples", "samples-combined"))
        union.write_text(args.out.read_text().splitlines()[0] + "\n")
        analyze(union, bundle=args.bundle, also=[args.out, *args.combine])
        union.unlink()
    else:
        analyze(args.out, bundle=args.bundle)


if __name__ == "__main__":
    main()
