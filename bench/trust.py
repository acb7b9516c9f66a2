"""Trust beyond syntax: on a pure-Python package from PyPI that nobody here wrote, with its
own tests, how many of the packaged SmolLM2's edits break those tests, and how many of
them each gate catches before a person sees them.

    PYTHONPATH=server:. python bench/trust.py [--package inflection==0.5.1]
        [--functions 8] [--actions simplify,docstring,annotate.python] [--samples 3]
        [--no-strip] [--backend URL]

The sdist is downloaded once into .cache/bench/sdists (pip download, no dependencies,
no wheels) and unpacked into a throwaway folder; its top-level functions' docstrings and annotations
are removed there first (--no-strip keeps them), so that every action has the same
targets, as in code that lacks them. The baseline is the package's own test
suite on the unchanged copy (it must pass). Each action runs on the first --functions
top-level functions of the package with the syntax gate only (today's floor: the
checkers gate off, test changes allowed), with --samples samples for agreement. Each
edit the model proposed (also one the syntax gate refused) is written into the copy,
the package's tests run, and the file is put back. The later gates are then asked about
that same edit: the test guard, the project's checkers (ruff --select F, mypy when the
package configures it), and the agreement threshold (unsure: fewer than half of the
extra samples agree). Printed, from this one run: share of edits that break the tests,
how many of those each gate catches (cumulative: today's gates -- syntax, confinement,
a usable reply; + checkers; + test guard; + agreement), how many good edits each refuses, and the AUROC of agreement and of token
confidence for "the tests still pass".
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SDISTS = ROOT / ".cache" / "bench" / "sdists"
TEST_TIMEOUT_S = 300


@dataclass
class Edit:
    action: str
    symbol: str
    path: Path
    before: str
    after: str | None  # None: the model produced no edit at all
    syntax_ok: bool  # passed today's gates (syntax, confinement, a usable reply)
    confidence: float | None
    agreement: float | None
    passes: bool | None = None
    checkers: str | None = None  # the checkers gate's reason, when it would refuse
    guard: str | None = None  # the test guard's reason, when it would refuse


def fetch_sdist(requirement: str) -> Path:
    SDISTS.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0]
    found = sorted(SDISTS.glob(f"{name}-*.tar.gz"))
    if "==" in requirement:
        found = [f for f in found if f.name == f"{name}-{requirement.split('==')[1]}.tar.gz"]
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--no-binary", ":all:", requirement, "-d", str(SDISTS)],
            check=True,
        )
        found = sorted(SDISTS.glob(f"{name}-*.tar.gz"))
    return found[-1]


def unpack(sdist: Path, dest: Path) -> Path:
    with tarfile.open(sdist) as archive:
        archive.extractall(dest, filter="data")
    (folder,) = [p for p in dest.iterdir() if p.is_dir()]
    return folder


def strip_function(text: str) -> str:
    """The module with its top-level functions' docstrings and annotations removed (so
    that the docstring and annotate actions have targets, as in code that lacks them)."""
    from edgewise.context.languages import LanguageRegistry

    python = LanguageRegistry().for_document("a.py")
    assert python is not None
    data = text.encode("utf-8")
    tree = python.parser().parse(data)
    cuts: list[tuple[int, int, bytes]] = []
    for node in tree.root_node.named_children:
        if node.type == "decorated_definition":
            node = node.child_by_field_name("definition") or node
        if node.type != "function_definition":
            continue
        params = node.child_by_field_name("parameters")
        returns = node.child_by_field_name("return_type")
        body = node.child_by_field_name("body")
        if params is not None and returns is not None:
            cuts.append((params.end_byte, returns.end_byte, b""))
        for param in params.named_children if params is not None else []:
            if param.type == "typed_parameter":
                name = param.named_children[0]
                cuts.append(
                    (param.start_byte, param.end_byte, data[name.start_byte : name.end_byte])
                )
            elif param.type == "typed_default_parameter":
                name = param.child_by_field_name("name")
                value = param.child_by_field_name("value")
                if name is not None and value is not None:
                    new = (
                        data[name.start_byte : name.end_byte]
                        + b"="
                        + data[value.start_byte : value.end_byte]
                    )
                    cuts.append((param.start_byte, param.end_byte, new))
        first = body.named_children[0] if body is not None and body.named_children else None
        if (
            first is not None
            and first.type == "expression_statement"
            and first.named_children[0].type == "string"
        ):
            start = data.rfind(b"\n", 0, first.start_byte) + 1
            end = data.find(b"\n", first.end_byte) + 1 or len(data)
            only = body is not None and len(body.named_children) == 1
            indent = data[start : first.start_byte]
            cuts.append((start, end, indent + b"pass\n" if only else b""))
    for start, end, new in sorted(cuts, reverse=True):
        data = data[:start] + new + data[end:]
    return data.decode("utf-8")


def run_tests(project: Path) -> tuple[bool, float]:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=TEST_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return False, TEST_TIMEOUT_S
    return done.returncode == 0, time.monotonic() - started


def sources(project: Path) -> list[Path]:
    from edgewise.actions.test_guard import is_test_file

    skip = {"setup.py", "conftest.py", "noxfile.py"}
    return [
        p
        for p in sorted(project.rglob("*.py"))
        if p.name not in skip
        and not is_test_file(p.relative_to(project))
        and "docs" not in p.relative_to(project).parts
    ]


async def propose(
    project: Path,
    model: Path,
    actions: list[str],
    functions: int,
    samples: int,
    backend: str = "embedded",
) -> list[Edit]:
    from edgewise.actions.base import Workspace, char_offset
    from edgewise.actions.catalog import get_action
    from edgewise.batch.targets import find_targets
    from edgewise.config import parse_settings
    from edgewise.context.positions import LineIndex
    from edgewise.engine import Engine

    raw = {
        "model": str(model),
        "backend": backend,
        "checks": {"tools": []},  # today's floor: the syntax gate only
        "allowTestChanges": True,
        "actionSamples": samples,
        "actionMaxTokens": 200,
        "threads": 2,
    }
    if backend != "embedded":  # the GGUF's tokenizer and chat template count the prompt
        raw["remoteTokenizer"] = str(model)
    parsed = parse_settings(raw)
    assert not parsed.problems, parsed.problems
    settings = parsed.settings
    engine = Engine(settings, allow_download=False, report_log=False)
    workspace = Workspace(roots=(project,))
    edits: list[Edit] = []
    try:
        for action_id in actions:
            spec = get_action(action_id)
            assert spec is not None, action_id
            left = functions
            for path in sources(project):
                text = path.read_text("utf-8")
                uri = path.as_uri()
                doc = engine.documents.open(uri, text)
                found = [t for t in find_targets(doc, spec) if "." not in t.symbol]
                engine.documents.close(uri)
                for target in found[:left]:
                    data = text.encode("utf-8")
                    index = LineIndex(text, engine.position_encoding)
                    start = index.position(char_offset(data, target.start_byte))
                    end = index.position(char_offset(data, target.end_byte))
                    result = await engine.run_action(
                        action_id, uri, text, start, end, "python", workspace=workspace
                    )
                    report = result.report
                    after: str | None = None
                    if result.files:
                        after = result.files[0].after
                    elif result.new_text:
                        stop = (
                            result.edit_end if result.edit_end is not None else result.edit_offset
                        )
                        after = text[: result.edit_offset] + result.new_text + text[stop:]
                    if after == text:  # "the edit changes nothing": no edit to judge
                        after = None
                    agreement = report["confidence"].get("agreement")
                    edits.append(
                        Edit(
                            action_id,
                            target.symbol,
                            path,
                            text,
                            after,
                            result.disabled_reason is None,
                            report["confidence"]["score"],
                            agreement["score"] if agreement else None,
                        )
                    )
                    print(
                        f"  {action_id} {target.symbol}: "
                        f"{'edit' if result.disabled_reason is None else 'refused: ' + result.disabled_reason[:60]}",
                        flush=True,
                    )
                left -= len(found[:left])
                if left <= 0:
                    break
    finally:
        engine.close()
    return edits


async def later_gates(project: Path, edits: list[Edit]) -> None:
    from edgewise.actions.checkers import Checkers
    from edgewise.actions.edits import TextChange
    from edgewise.actions.test_guard import guard_edit
    from edgewise.context.languages import LanguageRegistry

    python = LanguageRegistry().for_document("a.py")
    checkers = Checkers()
    for edit in edits:
        if edit.after is None or not edit.syntax_ok:
            continue
        change = [TextChange(0, len(edit.before), edit.after)]
        verdict = guard_edit(python, edit.path, edit.action, edit.before, edit.after, change, False)
        edit.guard = verdict.refused
        outcome = await checkers.check(
            edit.path, project, "python", edit.before, edit.after, ("ruff", "mypy"), 60.0
        )
        edit.checkers = outcome.problem


def auroc(scores: list[float], labels: list[bool]) -> float | None:
    """Probability that a random passing edit scores above a random failing one."""
    good = [s for s, ok in zip(scores, labels, strict=True) if ok]
    bad = [s for s, ok in zip(scores, labels, strict=True) if not ok]
    if not good or not bad:
        return None
    wins = sum((g > b) + 0.5 * (g == b) for g in good for b in bad)
    return wins / (len(good) * len(bad))


def report(edits: list[Edit], baseline_s: float, tests_s: list[float]) -> None:
    judged = [e for e in edits if e.after is not None and e.passes is not None]
    breaking = [e for e in judged if not e.passes]
    good = [e for e in judged if e.passes]
    print(f"\nedits proposed: {len(judged)} ({len(edits) - len(judged)} targets gave no edit)")
    share = len(breaking) / len(judged) if judged else 0.0
    print(f"edits that break the package's tests: {len(breaking)} ({share:.0%})")
    gates: list[tuple[str, Any]] = [
        ("today (syntax, confinement)", lambda e: not e.syntax_ok),
        ("+ checkers", lambda e: e.checkers is not None),
        ("+ test guard", lambda e: e.guard is not None),
        ("+ agreement (unsure)", lambda e: e.agreement is not None and e.agreement < 0.5),
    ]
    caught: set[int] = set()
    print("gate                         breaking caught   good refused")
    for name, refuses in gates:
        caught |= {id(e) for e in judged if refuses(e)}
        hit = sum(1 for e in breaking if id(e) in caught)
        wrong = sum(1 for e in good if id(e) in caught)
        print(f"{name:<28} {hit:>4} of {len(breaking):<8} {wrong:>4} of {len(good)}")
    for action in dict.fromkeys(e.action for e in edits):
        mine = [e for e in judged if e.action == action]
        broke = sum(1 for e in mine if not e.passes)
        asked = sum(1 for e in edits if e.action == action)
        print(f"  {action}: {len(mine)} edits of {asked} targets, {broke} break the tests")
    for e in judged:
        for gate, why in (("checkers", e.checkers), ("test guard", e.guard)):
            if why is not None:
                verdict = "breaking" if not e.passes else "GOOD"
                print(f"  {gate} refuse {e.action} {e.symbol} ({verdict}): {why[:150]}")
    labels = [bool(e.passes) for e in judged]
    for name, values in (
        ("agreement", [e.agreement for e in judged]),
        ("token confidence", [e.confidence for e in judged]),
    ):
        pairs = [(v, ok) for v, ok in zip(values, labels, strict=True) if v is not None]
        area = auroc([v for v, _ in pairs], [ok for _, ok in pairs])
        shown = "n/a (one class only)" if area is None else f"{area:.2f}"
        print(f"AUROC of {name} for 'tests still pass': {shown} ({len(pairs)} edits)")
    if tests_s:
        mean = sum(tests_s) / len(tests_s)
        print(
            f"test suite: baseline {baseline_s:.1f} s, per edit {mean:.1f} s (x{mean / baseline_s:.2f})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="inflection==0.5.1")
    parser.add_argument("--functions", type=int, default=8)
    parser.add_argument("--actions", default="simplify,docstring,annotate.python")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument(
        "--backend", default="embedded", help="'embedded' (SmolLM2) or a remote server's URL"
    )
    parser.add_argument(
        "--strip",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="remove the functions' docstrings and annotations first (default: on)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "server"))
    from bench.machine import smollm2_here

    model = smollm2_here()
    if model is None:
        return 1
    sdist = fetch_sdist(args.package)
    with tempfile.TemporaryDirectory(prefix="edgewise-trust-") as folder:
        project = unpack(sdist, Path(folder))
        print(f"package: {sdist.name}; tests in a throwaway copy ({project})")
        if args.strip:
            for path in sources(project):
                path.write_text(strip_function(path.read_text("utf-8")), "utf-8")
            print("functions' docstrings and annotations stripped in the copy (--strip)")
        ok, baseline_s = run_tests(project)
        if not ok:
            print("the package's own tests fail on the unchanged copy: nothing to measure")
            return 1
        edits = asyncio.run(
            propose(
                project,
                model,
                args.actions.split(","),
                args.functions,
                args.samples,
                args.backend,
            )
        )
        tests_s = []
        for edit in edits:
            if edit.after is None:
                continue
            edit.path.write_text(edit.after, "utf-8")
            try:
                edit.passes, seconds = run_tests(project)
                tests_s.append(seconds)
            finally:
                edit.path.write_text(edit.before, "utf-8")
            print(f"  tests after {edit.action} {edit.symbol}: {'pass' if edit.passes else 'FAIL'}")
        asyncio.run(later_gates(project, edits))
    report(edits, baseline_s, tests_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
