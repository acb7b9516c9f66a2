"""`edgewise refactor` end to end on a copy of a real project, with the tiny model."""

from __future__ import annotations

import difflib
import json
import stat
import subprocess
from pathlib import Path

import pytest

from edgewise.batch.records import Validators
from tests.batch.conftest import (
    CLI,
    IGNORED_FILES,
    SOURCE_FILES,
    Run,
    parse_errors,
    read_report,
    tree_hashes,
)

VALIDATORS = Validators()


def assert_valid_report(lines: list[dict]) -> None:
    assert lines, "the report is empty"
    for line in lines[:-1]:
        VALIDATORS.record.validate(line)
        VALIDATORS.report.validate(line)
    VALIDATORS.summary.validate(lines[-1])


def inserted_chunks(before: bytes, after: bytes) -> list[tuple[int, bytes]]:
    """(line number in ``before``, inserted bytes) of a change that only inserts lines."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    chunks = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), f"{op} of lines {i1}-{i2}: more than insertions"
        if op == "insert":
            chunks.append((i1, b"".join(new[j1:j2])))
    return chunks


def test_dry_run_changes_no_byte_and_proposes_every_target(project: Path, refactor):
    before = tree_hashes(project)
    run = refactor(".", "--action", "docstring")
    assert run.returncode == 0, run.stderr
    assert tree_hashes(project) == before  # not one byte changed, nothing created
    assert_valid_report(run.lines)
    records = run.records
    assert {r["outcome"] for r in records} == {"proposed"}
    assert {r["target"]["file"] for r in records} == set(SOURCE_FILES)
    assert not any(r["target"]["file"] in IGNORED_FILES for r in records)  # .gitignore
    symbols = {(r["target"]["file"], r["target"]["symbol"]) for r in records}
    assert ("inventory/models.py", "StockLevel.reserve") in symbols
    assert ("web/src/cart.ts", "Cart.add") in symbols
    # documented scopes are not targets
    assert ("inventory/models.py", "StockLevel.release") not in symbols
    assert ("web/src/format.ts", "formatCents") not in symbols
    # the diff on stdout names every file with a proposal, as git would
    for name in SOURCE_FILES:
        assert f"--- a/{name}\n+++ b/{name}\n" in run.stdout
    summary = run.summary
    assert summary["targets"] == {
        "found": len(records), "done_before": 0, "processed": len(records), "remaining": 0,
    }  # fmt: skip
    assert summary["mode"] == "dry-run" and summary["stopped"] is None


def test_summary_totals_are_the_sums_of_the_records(project: Path, refactor):
    run = refactor("inventory", "web", "--action", "docstring")
    assert run.returncode == 0, run.stderr
    records, totals = run.records, run.summary["totals"]
    assert totals["requests"] == len(records)
    assert totals["tokens_prompt"] == sum(r["tokens"]["prompt"] for r in records)
    assert totals["tokens_completion"] == sum(r["tokens"]["completion"] for r in records)
    assert totals["tokens_cached"] == sum(r["tokens"]["cached"] for r in records)
    whole = sum(r["tokens"]["whole_file"] * r["verified"]["attempts"] for r in records)
    assert totals["tokens_whole_file"] == whole
    assert totals["tokens_saved"] == whole - totals["tokens_prompt"]
    file_tokens = {r["target"]["file"]: r["tokens"]["whole_file"] for r in records}
    assert len(file_tokens) == 5 and min(file_tokens.values()) > 100  # counted per file
    for key, field in (("energy_wh", "energy_wh"), ("local_cost", "local"),
                       ("cloud_equivalent", "cloud_equivalent")):  # fmt: skip
        assert totals[key] == pytest.approx(sum(r["cost"][field] for r in records), rel=1e-12)
    model_seconds = sum(r["time_ms"]["total"] for r in records) / 1000
    assert totals["model_seconds"] == pytest.approx(model_seconds, rel=1e-12)
    assert 0 < totals["model_seconds"] <= totals["wall_seconds"]


def test_apply_changes_only_the_targets_and_every_file_still_parses(project: Path, refactor):
    before = {p: (project / p).read_bytes() for p in tree_hashes(project)}
    mode_before = stat.S_IMODE((project / "scripts/import_csv.py").stat().st_mode)
    run = refactor(".", "--action", "docstring", "--apply")
    assert run.returncode == 0, run.stderr
    assert_valid_report(run.lines)
    assert {r["outcome"] for r in run.records} == {"applied"}
    after = tree_hashes(project)
    assert set(after) == set(before)  # no stray temporary files
    changed = {p for p in before if (project / p).read_bytes() != before[p]}
    assert changed == set(SOURCE_FILES)
    for name in changed:
        path = project / name
        assert parse_errors(path) == 0, name
        mine = [r for r in run.records if r["target"]["file"] == name]
        # only insertions, each inside its target's scope, and nothing but the records' text
        chunks = inserted_chunks(before[name], path.read_bytes())
        assert b"".join(c for _, c in chunks) == "".join(r["text"] for r in mine).encode()
        for line, _ in chunks:
            assert any(
                r["target"]["range"]["start"]["line"] <= line <= r["target"]["range"]["end"]["line"]
                for r in mine
            ), f"{name}: insertion at line {line + 1} is outside every target"
        assert {r["file_sha256"]["after"] for r in mine} == {after[name]}
    assert stat.S_IMODE((project / "scripts/import_csv.py").stat().st_mode) == mode_before
    assert run.summary["files"]["written"] == len(SOURCE_FILES)


def test_a_failing_check_restores_the_file_byte_for_byte(project: Path, refactor):
    pricing = project / "inventory/pricing.py"
    original = pricing.read_bytes()
    check = 'test "$(basename "$EDGEWISE_FILE")" != pricing.py'
    run = refactor("inventory", "--action", "docstring", "--apply", "--check", check)
    assert run.returncode == 1, run.stderr
    assert pricing.read_bytes() == original
    assert_valid_report(run.lines)
    by_file: dict[str, set[str]] = {}
    for r in run.records:
        by_file.setdefault(r["target"]["file"], set()).add(r["outcome"])
    assert by_file["inventory/pricing.py"] == {"rejected-by-check"}
    assert by_file["inventory/models.py"] == {"applied"}
    rejected = [r for r in run.records if r["outcome"] == "rejected-by-check"]
    assert all(r["check"]["exit_code"] == 1 and "restored" in r["reason"] for r in rejected)
    assert all(r["file_sha256"]["after"] == r["file_sha256"]["before"] for r in rejected)
    assert run.summary["files"]["restored"] == 1
    assert run.summary["exit_code"] == 1


def test_a_file_edited_on_disk_mid_run_is_skipped_not_overwritten(project: Path, refactor):
    # The check after the first file written plays a colleague saving format.ts
    # (the last file of the run) while the run goes on.
    fmt = project / "web/src/format.ts"
    original = fmt.read_bytes()
    edit = "\n// edited by a colleague\n"
    check = (
        f"if [ ! -e ../colleague-was-here ]; then touch ../colleague-was-here; "
        f"printf '{edit}' >> web/src/format.ts; fi"
    )  # fmt: skip
    run = refactor(".", "--action", "docstring", "--apply", "--check", check)
    assert run.returncode == 1, run.stderr
    assert fmt.read_bytes() == original + edit.encode()  # their edit kept, ours not written
    mine = [r for r in run.records if r["target"]["file"] == "web/src/format.ts"]
    assert mine and {r["outcome"] for r in mine} == {"skipped"}
    assert all("changed on disk" in r["reason"] for r in mine)
    others = [r for r in run.records if r["target"]["file"] != "web/src/format.ts"]
    assert {r["outcome"] for r in others} == {"applied"}
    assert run.summary["files"]["skipped_changed"] == 1


def test_a_crlf_file_stays_crlf(project: Path, refactor):
    pricing = project / "inventory/pricing.py"
    crlf = pricing.read_bytes().replace(b"\n", b"\r\n")
    pricing.write_bytes(crlf)
    run = refactor("inventory/pricing.py", "--action", "docstring", "--apply")
    assert run.returncode == 0, run.stderr
    data = pricing.read_bytes()
    assert data != crlf
    assert data.count(b"\n") == data.count(b"\r\n") > crlf.count(b"\r\n")
    assert parse_errors(pricing) == 0
    chunks = inserted_chunks(crlf, data)  # the original bytes all still there, in order
    texts = "".join(r["text"] for r in run.records).replace("\n", "\r\n")
    assert b"".join(c for _, c in chunks) == texts.encode()


def test_paths_leaving_the_root_through_symlinks_are_refused(project: Path, tmp_path, refactor):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.py"
    secret.write_text("def leak(token):\n    return token\n")
    (project / "inventory/linked.py").symlink_to(secret)
    (project / "linked_dir").symlink_to(outside, target_is_directory=True)
    (project / "inventory/alias.py").symlink_to("models.py")  # stays inside: one file
    before = secret.read_bytes()
    run = refactor(".", "--action", "docstring", "--apply")
    assert run.returncode == 0, run.stderr
    assert secret.read_bytes() == before
    assert not any(r["target"]["path"].startswith(str(outside)) for r in run.records)
    refused = run.summary["refused"]
    assert any(r["path"] == "inventory/linked.py" and "outside the root" in r["reason"]
               for r in refused), refused  # fmt: skip
    assert "refused inventory/linked.py" in run.stderr
    # the symlinks are still symlinks; the alias' target was edited once, in place
    assert (project / "inventory/linked.py").is_symlink()
    assert (project / "inventory/alias.py").is_symlink()
    models = [r for r in run.records if r["target"]["path"].endswith("inventory/models.py")]
    assert len(models) == len({r["target"]["symbol"] for r in models}) > 0
    assert parse_errors(project / "inventory/models.py") == 0


def test_gitignored_files_are_untouched_in_a_git_repository(project: Path, refactor):
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    ignored = {name: (project / name).read_bytes() for name in IGNORED_FILES}
    # a file git ignores through .git/info/exclude (not .gitignore): git itself decides
    (project / ".git/info/exclude").write_text("scripts/\n")
    script = (project / "scripts/import_csv.py").read_bytes()
    run = refactor(".", "--action", "docstring", "--apply")
    assert run.returncode == 0, run.stderr
    for name, data in ignored.items():
        assert (project / name).read_bytes() == data
    assert (project / "scripts/import_csv.py").read_bytes() == script
    files = {r["target"]["file"] for r in run.records}
    assert files == set(SOURCE_FILES) - {"scripts/import_csv.py"}


def test_resume_does_not_redo_finished_targets(project: Path, refactor, tmp_path: Path):
    report = tmp_path / "night.jsonl"
    first = refactor(".", "--action", "docstring", "--limit", "7", report=report)
    assert first.returncode == 0, first.stderr
    assert len(first.records) == 7 and first.summary["stopped"] == "limit"
    second = refactor(".", "--action", "docstring", "--resume", report=report)
    assert second.returncode == 0, second.stderr
    lines = second.lines  # the same file: first run's lines, then the second run's
    assert_valid_report(lines[: len(first.lines)])
    assert_valid_report(lines[len(first.lines) :])
    run_two = [r for r in second.records if r["batch"]["run"] == second.summary["id"]]
    key = lambda r: (r["target"]["path"], r["target"]["symbol"])  # noqa: E731
    done_first = {key(r) for r in first.records}
    assert done_first.isdisjoint({key(r) for r in run_two})
    assert second.summary["targets"]["done_before"] == 7
    assert len(done_first) + len(run_two) == second.summary["targets"]["found"]
    third = refactor(".", "--action", "docstring", "--resume", report=report)
    assert third.returncode == 0
    assert third.summary["targets"]["processed"] == 0
    assert third.summary["targets"]["done_before"] == third.summary["targets"]["found"]


def test_max_cost_stops_before_the_estimate_passes_the_budget(project: Path, refactor):
    budget = 0.012  # cloud-equivalent USD: a handful of the project's targets
    run = refactor(".", "--action", "docstring", "--max-cost", str(budget),
                   "--cost-basis", "cloud")  # fmt: skip
    assert run.returncode == 1, run.stderr
    summary = run.summary
    assert summary["stopped"] == "budget" and summary["targets"]["remaining"] > 0
    costs = [r["cost"]["cloud_equivalent"] for r in run.records]
    assert summary["budget"]["spent"] == pytest.approx(sum(costs))
    # the documented rule: a target starts only while spent + the mean so far fits
    for k in range(1, len(costs)):
        assert sum(costs[:k]) + sum(costs[:k]) / k <= budget
    assert sum(costs) + sum(costs) / len(costs) > budget


@pytest.mark.parametrize(
    "args, message",
    [
        (["--action", "nope"], "unknown action 'nope'"),
        (["--action", "docstring", "--check", "true"], "use it with --apply"),
        (["--action", "docstring", "--jobs", "0"], "--jobs must be at least 1"),
        (["--action", "docstring", "--instruction", "make it faster"], "takes no --instruction"),
        (["--action", "docstring", "--model", "/nowhere/model.gguf"], None),
        (["--action", "docstring", "--report", "inventory/models.py"], "looks like source code"),
    ],
)
def test_usage_and_setup_errors_exit_2_and_change_nothing(project: Path, refactor, args, message):
    before = tree_hashes(project)
    run = refactor(".", *args)
    assert tree_hashes(project) == before
    assert run.returncode == 2, run.stderr
    if message:
        assert message in run.stderr
    else:
        assert "/nowhere/model.gguf" in run.stderr


def test_resume_without_a_report_is_a_usage_error(project: Path, cli_env):
    done = subprocess.run([*CLI, ".", "--action", "docstring", "--resume"], cwd=project,
                          env=cli_env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert "--resume needs --report" in done.stderr


def test_jobs_queue_on_the_embedded_model_and_change_no_result(
    project: Path, refactor, tmp_path: Path
):
    one = refactor("web", "--action", "docstring", report=tmp_path / "one.jsonl")
    three = refactor("web", "--action", "docstring", "--jobs", "3", report=tmp_path / "three.jsonl")
    assert one.returncode == three.returncode == 0, three.stderr
    assert "the embedded model runs one request at a time" in three.stderr
    # greedy decoding, same requests in the same order on the one worker: same proposals
    texts = lambda run: {(r["target"]["symbol"], r["text"]) for r in run.records}  # noqa: E731
    assert texts(one) == texts(three) and len(one.records) == 9
    assert three.stdout == one.stdout


def test_a_model_error_fails_its_target_with_a_valid_zero_cost_record(
    project: Path, tmp_path: Path, tiny_model: Path, cli_env: dict
):
    # a context too small for the larger scopes: the engine refuses them before the model
    settings = tmp_path / "small.json"
    settings.write_text(json.dumps({"model": str(tiny_model), "contextLength": 300,
                                    "actionMaxTokens": 16}))  # fmt: skip
    report = tmp_path / "r.jsonl"
    before = tree_hashes(project)
    done = subprocess.run(
        [*CLI, "inventory/models.py", "--action", "docstring", "--settings", str(settings),
         "--report", str(report)],
        cwd=project, env=cli_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert tree_hashes(project) == before
    lines = read_report(report)
    assert_valid_report(lines)
    failed = [r for r in lines[:-1] if r["outcome"] == "failed"]
    proposed = [r for r in lines[:-1] if r["outcome"] == "proposed"]
    assert failed and proposed
    assert {r["target"]["symbol"] for r in failed} >= {"StockLevel"}
    for r in failed:
        assert "too long for the model's context" in r["reason"]
        assert r["tokens"]["prompt"] == r["tokens"]["completion"] == 0
        assert r["cost"]["cloud_equivalent"] == 0 and r["diff"] == ""
    assert lines[-1]["outcomes"] == {"proposed": len(proposed), "failed": len(failed)}


def test_a_period_budget_stops_the_run_cleanly_and_resume_finishes_it_later(
    project: Path, settings_file: Path, cli_env: dict[str, str], tmp_path: Path
):
    """budget.atLimit 'stop': the run stops before the next target once this week's
    budget is used up (here: after the first), says how to go on, and a later run with
    --resume (the budget raised, or the week over) does the rest and nothing twice."""
    state = tmp_path / "own-state"  # a ledger of its own: other tests' tokens not counted
    env = {**cli_env, "EDGEWISE_STATE_DIR": str(state)}
    settings = json.loads(settings_file.read_text())
    tight = tmp_path / "tight.json"
    tight.write_text(json.dumps({**settings, "budget": {"unit": "tokens", "weekly": 1,
                                                         "atLimit": "stop"}}))  # fmt: skip
    report = tmp_path / "budget.jsonl"

    def run(settings: Path, *args: str) -> Run:
        command = [*CLI, "inventory", "--action", "docstring", "--settings", str(settings),
                   "--report", str(report), *args]  # fmt: skip
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        return Run(done.returncode, done.stdout, done.stderr, read_report(report))

    first = run(tight)
    assert first.returncode == 1, first.stderr
    assert first.summary["stopped"] == "period-budget"
    assert first.summary["targets"]["processed"] == 1 and first.summary["targets"]["remaining"] > 0
    assert "this week's budget is used up" in first.stderr
    assert "run again with --resume" in first.stderr
    assert "Traceback" not in first.stderr
    ledger = (state / "reports.jsonl").read_text("utf-8").splitlines()
    assert len([line for line in ledger if '"kind":"action"' in line]) == 1, "one model call"

    again = run(tight, "--resume")  # still over: nothing runs, nothing changes
    assert again.returncode == 1 and again.summary["targets"]["processed"] == 0

    later = run(settings_file, "--resume")  # the budget raised (or next week)
    assert later.returncode == 0, later.stderr
    assert later.summary["targets"]["done_before"] == 1
    assert later.summary["targets"]["remaining"] == 0
    done = [(r["target"]["path"], r["target"]["symbol"]) for r in later.records]
    assert len(done) == len(set(done)) == later.summary["targets"]["found"], "nothing twice"
