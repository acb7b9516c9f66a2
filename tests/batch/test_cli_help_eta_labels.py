"""`edgewise refactor` as a person reads it: --help lists the action ids; with --limit
the progress counts (and estimates the time of) only the targets it will run; a reply
that gives no usable types is labelled for what it is, not as a syntax rejection."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from edgewise.actions.catalog import ACTIONS
from tests.batch.conftest import CLI


def test_help_lists_every_action_id() -> None:
    done = subprocess.run([*CLI, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("action ids (--action):\n", 1)[1]
    ids = [line.split()[0] for line in listed.splitlines() if line.strip()]
    assert ids == [spec.id for spec in ACTIONS]
    assert re.search(r"^  rewrite +.*\(needs --instruction\)", listed, re.M)
    assert re.search(r"^  annotate\.python +Add type annotations; python$", listed, re.M)


def test_with_limit_progress_and_eta_count_only_the_targets_it_runs(refactor) -> None:
    run = refactor(".", "--action", "docstring", "--limit", "2")
    assert run.returncode == 0, run.stderr
    assert "edgewise: 2 target(s) to run" in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if re.match(r"edgewise: \[\d+/\d+\]", line)]
    assert [re.search(r"\[(\d+/\d+)\]", line).group(1) for line in lines] == ["1/2", "2/2"]  # type: ignore[union-attr]
    assert lines[-1].endswith("eta 0m00s"), lines[-1]


def test_a_reply_without_usable_types_is_not_a_syntax_rejection(refactor, project: Path) -> None:
    # the tiny model's noise is never a type: nothing to insert, no edit made of it
    code = "".join(
        f"def scale_{n}(value, factor=2):\n    return value * factor + {n}\n\n\n" for n in range(4)
    )
    (project / "untyped.py").write_text(code, "utf-8")
    run = refactor("untyped.py", "--action", "annotate.python")
    assert run.records, run.stderr
    unusable = [r for r in run.records if r["outcome"] == "rejected-unusable"]
    assert unusable, [(r["outcome"], r["reason"]) for r in run.records]
    for record in run.records:
        if record["outcome"] == "rejected-by-syntax":
            assert "no usable types" not in record["reason"], record["reason"]
    assert run.summary["outcomes"].get("rejected-unusable") == len(unusable)
    assert "rejected-unusable" in run.stderr or run.returncode == 1
