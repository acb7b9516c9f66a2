"""What `edgewise refactor --resume` does not redo: every target that was applied or
refused (asking the same greedy model again gives the same refusal), and a proposal
only in another dry run; skipped and failed targets are tried again."""

from __future__ import annotations

from edgewise.batch.records import OUTCOMES, done_keys, resume_key


def line(outcome: str) -> dict:
    return {
        "kind": "action",
        "action": "docstring",
        "outcome": outcome,
        "target": {"path": "a.py", "symbol": outcome},
        "batch": {"instruction": None},
    }


def test_refusals_and_applied_are_done_and_the_rest_is_retried():
    lines = [line(outcome) for outcome in OUTCOMES]
    done = {key[-1] for key in done_keys(lines, dry_run=False)}
    refused = {o for o in OUTCOMES if o.startswith("rejected-")}
    assert done == refused | {"applied"}
    dry = {key[-1] for key in done_keys(lines, dry_run=True)}
    assert dry == done | {"proposed"}
    assert resume_key("docstring", None, "a.py", "skipped") not in done_keys(lines, False)
