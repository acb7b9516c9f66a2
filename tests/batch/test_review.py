"""The review of a night's run: `edgewise refactor` writes it, a person ticks changes,
`--apply-reviewed` applies exactly those (on a copy of tests/fixtures/batch_project,
with the tiny model; the real command line)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from edgewise.batch.diffs import unified_diff
from edgewise.batch.review import render
from edgewise.batch.sources import Edit, SourceFile
from tests.batch.conftest import CLI, parse_errors, tree_hashes

CHANGE = re.compile(r"^- \[ \] apply change (\d+) <!-- edgewise:change (c\d+) -->$", re.M)


@pytest.fixture
def night(project: Path, refactor, tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A dry run over the project with a report: the review beside it, and the records."""
    run = refactor(".", "--action", "docstring")
    assert run.returncode == 0, run.stderr
    review = tmp_path / "report.review.md"
    assert f"review: {review}" in run.stderr
    return review, run.records


def sections(text: str) -> dict[str, str]:
    """Each proposed change's section (from its title to the next title) by its key."""
    out = {}
    parts = re.split(r"^(?=#{2,3} )", text, flags=re.M)
    for part in parts:
        match = re.search(r"<!-- edgewise:change (c\d+) -->", part)
        if match:
            out[match.group(1)] = part
    return out


def apply_reviewed(project: Path, env: dict[str, str], review: Path, *args: str):
    return subprocess.run(
        [*CLI, "--apply-reviewed", str(review), *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def tick(review: Path, keys: list[str]) -> None:
    text = review.read_text()
    for key in keys:
        text, count = re.subn(
            rf"^- \[ \] (apply change \d+ <!-- edgewise:change {key} -->)$",
            r"- [x] \1",
            text,
            flags=re.M,
        )
        assert count == 1, key
    review.write_text(text)


def expected_after(path: Path, records: list[dict[str, Any]]) -> bytes:
    source = SourceFile.read(path, path.name)
    edits = [Edit(e["start"], e["end"], e["text"]) for r in records for e in r["edits"]]
    return source.apply(edits).encode()


def test_the_review_shows_every_change_least_sure_first_with_a_checkbox(night, project: Path):
    review, records = night
    text = review.read_text()
    assert oct(review.stat().st_mode & 0o777) == "0o600"  # it quotes the code
    proposed = [r for r in records if r["outcome"] == "proposed"]
    found = CHANGE.findall(text)
    assert [int(n) for n, _ in found] == list(range(1, len(proposed) + 1))
    assert f"**{len(proposed)} proposed** (least sure first) · **0 refused**" in text
    by_id = {r["id"]: r for r in records}
    scores = []
    for body in sections(text).values():
        report_id = re.search(r"report `([0-9a-f]+)`", body).group(1)
        record = by_id[report_id]
        scores.append(record["confidence"]["score"])
        target = record["target"]
        assert f"`{target['file']}` — `{target['symbol']}`" in body
        assert f"confidence **{record['confidence']['score']:.2f}**" in body
        assert "syntax ok" in body
        assert "```diff\n" + record["diff"] in body + "\n"  # the record's diff, verbatim
    assert len(scores) == len(proposed)
    assert scores == sorted(scores)  # least sure first
    assert "edgewise refactor --apply-reviewed" in text


def test_the_review_shows_refusals_checks_and_agreement_when_reports_have_them(night):
    _, records = night
    sure, unsure, refused = (dict(r) for r in records[:3])
    sure["confidence"] = {**sure["confidence"], "score": 0.93}
    unsure["confidence"] = {
        **unsure["confidence"],
        "score": 0.41,
        "agreement": {"samples": 3, "agreeing": 1, "score": 0.5, "unsure": True, "method": "tree"},
    }
    unsure["verified"] = {
        **unsure["verified"],
        "checks": [
            {"tool": "ruff", "status": "ran", "version": "0.8.4", "new": []},
            {"tool": "mypy", "status": "not-installed"},
        ],
        "tests": {"ok": True, "allowed": False, "findings": []},
    }
    refused.update(outcome="rejected-by-test-guard", reason="deletes an assert (line 12)")
    old = {k: v for k, v in records[3].items() if k not in ("reproduce",)}  # an older record
    old["confidence"] = {**old["confidence"], "score": None}
    text = render(
        [sure, unsure, refused, old],
        action="docstring", instruction=None, mode="dry-run", roots=["/p"], run="r1",
    )  # fmt: skip
    order = [text.index(f"report `{r['id']}`") for r in (old, unsure, sure)]
    assert order == sorted(order)  # unknown confidence first, then 0.41, then 0.93
    assert "confidence **unknown**" in text
    assert "ruff 0.8.4: 0 new problems; mypy: not-installed" in text
    assert "test guard: no check weakened" in text
    assert "agreement: 1 of 2 extra samples agree (tree) — **unsure**" in text
    refused_part = text[text.index("## Refused") :]
    assert "**rejected-by-test-guard**: deletes an assert (line 12)" in refused_part
    assert f"report `{refused['id']}`" in refused_part
    assert "- [ ]" not in refused_part  # a refused change cannot be ticked
    assert len(CHANGE.findall(text)) == 3


def test_apply_reviewed_applies_exactly_the_ticked_changes(night, project: Path, cli_env):
    review, records = night
    text = review.read_text()
    keys = {}  # report id -> change key
    for key, body in sections(text).items():
        keys[re.search(r"report `([0-9a-f]+)`", body).group(1)] = key
    in_models = [r for r in records if r["target"]["file"] == "inventory/models.py"][:2]
    in_cart = [r for r in records if r["target"]["file"] == "web/src/cart.ts"][:1]
    chosen = in_models + in_cart
    tick(review, [keys[r["id"]] for r in chosen])
    before = {p: (project / p).read_bytes() for p in tree_hashes(project)}
    expected = {
        "inventory/models.py": expected_after(project / "inventory/models.py", in_models),
        "web/src/cart.ts": expected_after(project / "web/src/cart.ts", in_cart),
    }
    done = apply_reviewed(project, cli_env, review)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 of 3 ticked change(s) applied" in done.stderr
    for record in chosen:
        assert f"applied  {keys[record['id']]}  {record['target']['file']}::" in done.stdout
    after = tree_hashes(project)
    assert set(after) == set(before)  # no backup, temporary or journal file left
    for name, data in before.items():
        now = (project / name).read_bytes()
        assert now == expected.get(name, data), name  # the ticked edits, nothing else
    assert parse_errors(project / "inventory/models.py") == 0
    assert not list(review.parent.glob(".*edgewise-journal"))


def test_apply_reviewed_refuses_changes_to_files_changed_since(night, project: Path, cli_env):
    review, records = night
    keys = {
        re.search(r"report `([0-9a-f]+)`", body).group(1): key
        for key, body in sections(review.read_text()).items()
    }
    pricing = next(r for r in records if r["target"]["file"] == "inventory/pricing.py")
    cart = next(r for r in records if r["target"]["file"] == "web/src/cart.ts")
    tick(review, [keys[pricing["id"]], keys[cart["id"]]])
    colleague = project / "inventory/pricing.py"
    colleague.write_text(colleague.read_text() + "\n# edited by a colleague in the morning\n")
    theirs = colleague.read_bytes()
    cart_expected = expected_after(project / "web/src/cart.ts", [cart])
    done = apply_reviewed(project, cli_env, review)
    assert done.returncode == 1
    assert (
        f"REFUSED  {keys[pricing['id']]}  inventory/pricing.py::{pricing['target']['symbol']}: "
        "the file changed since the review was written" in done.stdout
    )
    assert colleague.read_bytes() == theirs  # their edit kept, nothing of ours added
    assert (project / "web/src/cart.ts").read_bytes() == cart_expected
    # applying again refuses what is now applied: its file is no longer the one reviewed
    again = apply_reviewed(project, cli_env, review)
    assert again.returncode == 1 and "0 of 2 ticked change(s) applied" in again.stderr
    assert (project / "web/src/cart.ts").read_bytes() == cart_expected


def test_a_diff_edited_in_the_review_is_refused(night, project: Path, cli_env):
    review, records = night
    text = review.read_text()
    body = sections(text)["c1"]
    plus = next(
        line for line in body.split("\n") if line.startswith("+") and not line.startswith("+++")
    )
    review.write_text(text.replace(body, body.replace(plus, plus + " (reworded by hand)", 1)))
    tick(review, ["c1"])
    before = tree_hashes(project)
    done = apply_reviewed(project, cli_env, review)
    assert done.returncode == 1
    assert "its diff in the review was edited" in done.stdout
    assert tree_hashes(project) == before


def test_a_failing_check_restores_the_reviewed_file(night, project: Path, cli_env):
    review, _ = night
    tick(review, ["c1", "c2"])
    before = tree_hashes(project)
    done = apply_reviewed(project, cli_env, review, "--check", "exit 3")
    assert done.returncode == 1
    assert "--check failed (exit 3); the file was restored" in done.stdout
    assert tree_hashes(project) == before


def test_nothing_ticked_and_bad_files_change_nothing(night, project: Path, cli_env, tmp_path: Path):
    review, _ = night
    before = tree_hashes(project)
    done = apply_reviewed(project, cli_env, review)
    assert done.returncode == 0 and "no change is ticked" in done.stderr
    notes = tmp_path / "notes.md"
    notes.write_text("# my notes\n- [x] buy milk\n")
    done = apply_reviewed(project, cli_env, notes)
    assert done.returncode == 2 and "it is not an edgewise review" in done.stderr
    done = apply_reviewed(project, cli_env, review, "--action", "docstring")
    assert done.returncode == 2 and "takes the review alone" in done.stderr
    assert tree_hashes(project) == before
    assert notes.read_text() == "# my notes\n- [x] buy milk\n"


def test_a_review_path_holding_something_else_is_refused(project: Path, refactor, tmp_path: Path):
    mine = tmp_path / "mine.md"
    mine.write_text("my own notes\n")
    run = refactor(".", "--action", "docstring", "--review", str(mine))
    assert run.returncode == 2
    assert "is not an edgewise review; nothing was changed" in run.stderr
    assert mine.read_text() == "my own notes\n"
    same = refactor(".", "--action", "docstring", "--review", str(tmp_path / "report.jsonl"))
    assert same.returncode == 2 and "is the --report file" in same.stderr
    assert not (tmp_path / "report.jsonl").exists()


def test_records_carry_the_edits_the_review_applies(night, project: Path):
    _, records = night
    for record in records:
        path = project / record["target"]["file"]
        source = SourceFile.read(path, record["target"]["file"])
        edits = [Edit(e["start"], e["end"], e["text"]) for e in record["edits"]]
        assert (
            unified_diff(source.text, source.apply(edits), record["target"]["file"])
            == (record["diff"])
        )
    assert json.dumps(records)  # plain JSON


def test_a_resumed_night_gets_one_review_of_every_target(project: Path, refactor, tmp_path: Path):
    first = refactor(".", "--action", "docstring", "--limit", "4")
    assert first.returncode == 0 and first.summary["stopped"] == "limit"
    second = refactor(".", "--action", "docstring", "--resume")
    assert second.returncode == 0, second.stderr
    records = second.records
    runs = {r["batch"]["run"] for r in records}
    assert len(runs) == 2
    text = (tmp_path / "report.review.md").read_text()
    assert len(CHANGE.findall(text)) == len(records)  # both runs' proposals, once each
    assert all(f"report `{r['id']}`" in text for r in records)


def test_an_apply_run_lists_what_it_wrote_without_checkboxes(project: Path, refactor, tmp_path):
    run = refactor("inventory/pricing.py", "--action", "docstring", "--apply")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "report.review.md").read_text()
    assert "- [ ]" not in text and "Nothing to review." in text
    applied = text[text.index("## Already applied by the run") :]
    for record in run.records:
        assert f"`{record['target']['symbol']}`" in applied
        assert record["diff"].split("\n")[0] in applied


def test_a_batch_records_model_call_replays_from_the_report(
    project: Path, refactor, cli_env, tmp_path: Path
):
    run = refactor("inventory/pricing.py", "--action", "docstring", "--keep-prompts")
    assert run.returncode == 0, run.stderr
    record = run.records[0]
    assert record["reproduce"]["prompt_kept"] is True
    done = subprocess.run(
        [*CLI[:-1], "replay", record["id"], "--from", str(tmp_path / "report.jsonl"), "--json"],
        env=cli_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["output_sha256"]["now"] == record["reproduce"]["output_sha256"]


def test_a_killed_apply_reviewed_is_finished_by_the_next(night, project: Path, cli_env, tmp_path):
    review, records = night
    keys = {
        re.search(r"report `([0-9a-f]+)`", body).group(1): key
        for key, body in sections(review.read_text()).items()
    }
    cart = next(r for r in records if r["target"]["file"] == "web/src/cart.ts")
    tick(review, [keys[cart["id"]]])
    expected = expected_after(project / "web/src/cart.ts", [cart])
    marker = tmp_path / "killed-once"
    # the check kills edgewise itself (its parent) the first time: the file is written,
    # its original held under a second name, the journal entry open
    check = f"test -e {marker} || {{ touch {marker}; kill -9 $PPID; sleep 5; }}"
    done = apply_reviewed(project, cli_env, review, "--check", check)
    assert done.returncode == -9
    assert list(review.parent.glob(".*edgewise-journal"))
    assert list((project / "web/src").glob(".cart.ts.*.edgewise-orig"))
    again = apply_reviewed(project, cli_env, review)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "an earlier --apply-reviewed stopped while writing web/src/cart.ts: applied" in (
        again.stderr
    )
    assert f"applied  {keys[cart['id']]}  web/src/cart.ts::" in again.stdout
    assert "(recovered)" in again.stdout
    assert (project / "web/src/cart.ts").read_bytes() == expected
    assert not list((project / "web/src").glob(".cart.ts.*"))
    assert not list(review.parent.glob(".*edgewise-journal"))


def test_a_change_pointed_outside_the_roots_is_refused(night, project: Path, cli_env, tmp_path):
    review, _ = night
    text = review.read_text()
    match = re.search(r"<!-- edgewise:data c1 ([A-Za-z0-9+/=]+) -->", text)
    data = json.loads(base64.b64decode(match.group(1)))
    outside = tmp_path / "outside" / Path(data["file"]).name
    outside.parent.mkdir()
    outside.write_bytes(Path(data["path"]).read_bytes())  # the same bytes: the hash matches
    data["path"] = str(outside)
    forged = base64.b64encode(json.dumps(data).encode()).decode()
    review.write_text(text.replace(match.group(1), forged))
    tick(review, ["c1"])
    before = outside.read_bytes()
    done = apply_reviewed(project, cli_env, review)
    assert done.returncode == 1
    assert "the file is not inside the roots the review was made over" in done.stdout
    assert outside.read_bytes() == before
