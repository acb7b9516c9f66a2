"""The review of a batch run: one Markdown file a person reads without a server, ticks,
and hands back to ``edgewise refactor --apply-reviewed FILE``.

Each proposed change is a section with a checkbox (``- [ ]``), what edgewise knows of
it (confidence, syntax, the project's checkers, the test guard, agreement between
samples, when the report has them) and its diff; sections are sorted least sure first.
The refused targets follow with why, and the changes an ``--apply`` run already wrote.

What applying needs (the file, its sha256 when the change was made, the edits) is in a
``<!-- edgewise:data ID BASE64 -->`` comment under each change, which Markdown viewers
do not show. Applying checks that the diff shown is still the diff of those edits, so a
hand-edited diff is refused rather than applied as something other than what was read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgewise import __version__
from edgewise.private_files import write_private

FORMAT = 1
HEADER = "<!-- edgewise review"
CHANGE_LINE = re.compile(r"^\s*[-*+]\s+\[([ xX])\].*<!--\s*edgewise:change\s+(c\d+)\s*-->\s*$")
DATA_LINE = re.compile(r"^<!--\s*edgewise:data\s+(c\d+)\s+([A-Za-z0-9+/=]+)\s*-->\s*$")
FENCE_OPEN = re.compile(r"^(`{3,})diff\s*$")
DONE_OUTCOMES = ("applied",)
ROOTS_LINE = re.compile(r"^<!--\s*edgewise:roots\s+([A-Za-z0-9+/=]+)\s*-->\s*$")


class ReviewError(Exception):
    """The file is not a review edgewise can read (the message says why)."""


def default_path(report: Path) -> Path:
    """The review written beside ``--report night.jsonl``: ``night.review.md``."""
    return report.with_name(f"{report.stem}.review.md")


def check_review_path(path: Path) -> str | None:
    """Why ``path`` may not be (over)written with a review (None when it may): it holds
    something that is not an edgewise review."""
    if path.is_dir():
        return "is a folder"
    if not path.parent.is_dir():
        return f"no folder {path.parent}"
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            start = handle.read(len(HEADER))
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if start and start != HEADER.encode():
        return "exists and is not an edgewise review; nothing was changed"
    return None


def latest(
    records: list[dict[str, Any]], action: str, instruction: str | None
) -> list[dict[str, Any]]:
    """The last record of each target of this action (a resumed run's report holds the
    records of every run; a retried target's latest one counts)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        target, batch = record.get("target"), record.get("batch")
        if record.get("kind") != "action" or not isinstance(target, dict):
            continue
        if record.get("action") != action or not isinstance(batch, dict):
            continue
        if batch.get("instruction") != instruction:
            continue
        out[(str(target.get("path")), str(target.get("symbol")))] = record
    return list(out.values())


def sureness(record: dict[str, Any]) -> tuple[float, str, str]:
    """Sort key: least sure first (no score at all is the least sure), then file, symbol."""
    score = record.get("confidence", {}).get("score")
    target = record["target"]
    return (-1.0 if score is None else float(score), target["file"], target["symbol"])


# --- writing -------------------------------------------------------------------------


def _encode(value: Any) -> str:
    return base64.b64encode(json.dumps(value, ensure_ascii=False).encode()).decode()


def _decode(text: str) -> Any:
    return json.loads(base64.b64decode(text, validate=True).decode())


def _fence(text: str, info: str) -> list[str]:
    """``text`` in a fenced block whose fence is longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.rstrip("\n").split("\n"), fence]


def _confidence(record: dict[str, Any]) -> str:
    conf = record.get("confidence") or {}
    score = conf.get("score")
    if score is None:
        return "confidence **unknown** (no token probabilities)"
    text = f"confidence **{score:.2f}**"
    if conf.get("calibrated") and isinstance(conf.get("calibration"), dict):
        text += f" (calibrated on {conf['calibration'].get('samples')} samples)"
    spans = conf.get("low_spans") or []
    if spans:
        weakest = min(spans, key=lambda s: s.get("min_prob", 1.0))
        line = weakest.get("start", {}).get("line")
        where = f" on line {line + 1}" if isinstance(line, int) else ""
        text += f", weakest token {weakest.get('min_prob', 0):.2f}{where}"
    return text


def _checks(verified: dict[str, Any]) -> str | None:
    checks = verified.get("checks")
    if not isinstance(checks, list) or not checks:
        return None
    parts = []
    for check in checks:
        if not isinstance(check, dict):
            continue
        tool = str(check.get("tool") or check.get("name") or "check")
        version = f" {check['version']}" if check.get("version") else ""
        status = str(check.get("status") or "")
        new = check.get("new")
        if status == "ran" or isinstance(new, list):
            count = len(new) if isinstance(new, list) else 0
            detail = f"{count} new problem{'s' if count != 1 else ''}"
            if isinstance(new, list) and new:
                first = new[0] if isinstance(new[0], dict) else {}
                detail += f" (line {first.get('line')} {first.get('rule')}: {first.get('message')})"
        else:
            detail = status or "?"
            if check.get("detail"):
                detail += f": {check['detail']}"
        parts.append(f"{tool}{version}: {detail}")
    return "checks: " + "; ".join(parts) if parts else None


def _tests(verified: dict[str, Any]) -> str | None:
    tests = verified.get("tests")
    if not isinstance(tests, dict):
        return None
    findings = [str(f) for f in tests.get("findings") or []]
    if tests.get("ok", True) and not findings:
        return "test guard: no check weakened"
    allowed = " (allowed)" if tests.get("allowed") else ""
    return "test guard" + allowed + ": " + ("; ".join(findings) or "refused")


def _agreement(record: dict[str, Any]) -> str | None:
    agreement = (record.get("confidence") or {}).get("agreement", record.get("agreement"))
    if not isinstance(agreement, dict):
        return None
    samples, agreeing = agreement.get("samples"), agreement.get("agreeing")
    if isinstance(samples, int) and isinstance(agreeing, int):
        text = f"agreement: {agreeing} of {max(samples - 1, 0)} extra samples agree"
        if agreement.get("method"):
            text += f" ({agreement['method']})"
        return text + (" — **unsure**" if agreement.get("unsure") else "")
    return "agreement: " + json.dumps(agreement, separators=(", ", ": "))


def facts_line(record: dict[str, Any]) -> str:
    """What edgewise knows of one change, on one line."""
    verified = record.get("verified") or {}
    syntax = {True: "syntax ok", False: "syntax **broken**", None: "syntax not checked"}
    parts = [_confidence(record), syntax.get(verified.get("syntax_ok"), "syntax ?")]
    for extra in (_checks(verified), _tests(verified), _agreement(record)):
        if extra:
            parts.append(extra)
    attempts = verified.get("attempts")
    if isinstance(attempts, int):
        parts.append(f"{attempts} attempt{'s' if attempts != 1 else ''}")
    parts.append(f"report `{record.get('id')}`")
    return " · ".join(parts)


def _title(number: int | None, record: dict[str, Any]) -> str:
    target = record["target"]
    head = f"{number}. " if number is not None else ""
    return f"### {head}`{target['file']}` — `{target['symbol']}` ({target.get('kind', '?')})"


def render(
    records: list[dict[str, Any]],
    *,
    action: str,
    instruction: str | None,
    mode: str,
    roots: list[str],
    run: str,
) -> str:
    proposed = sorted(
        (r for r in records if r.get("outcome") == "proposed" and r.get("edits")), key=sureness
    )
    answers = sorted(
        (r for r in records if r.get("outcome") == "proposed" and not r.get("edits")), key=sureness
    )
    applied = sorted((r for r in records if r.get("outcome") in DONE_OUTCOMES), key=sureness)
    refused = sorted(
        (r for r in records if r.get("outcome") not in ("proposed", *DONE_OUTCOMES)), key=sureness
    )
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    model = next((r.get("model") for r in records if isinstance(r.get("model"), dict)), None)
    out = [
        f"{HEADER} format={FORMAT} run={run} action={action} -->",
        f"<!-- edgewise:roots {_encode(roots)} -->",
        f"# edgewise review: {action}",
        "",
        f"{'Dry run' if mode == 'dry-run' else 'Run with --apply'} `{run}` over "
        f"{', '.join(f'`{r}`' for r in roots)}, written {created} "
        f"by edgewise {__version__}"
        + (
            f", model {model.get('name')} (sha256 `{str(model.get('sha256'))[:12]}…`)"
            if model
            else ""
        )
        + ".",
    ]
    if instruction:
        out.append(f"Instruction: {instruction}")
    out += [
        "",
        f"**{len(proposed)} proposed** (least sure first) · **{len(refused)} refused** · "
        f"{len(applied)} already applied · {len(answers)} answers without an edit",
        "",
        "Tick the changes to keep (`- [x]`), save, then run "
        "`edgewise refactor --apply-reviewed THIS-FILE`. Only ticked changes are applied, "
        "each only if its file has not changed since this review was written and its diff "
        "below is as edgewise wrote it.",
        "",
        *(
            [
                "Each change names its report: `edgewise replay REPORT_ID` runs its model "
                "call again and says whether the text is identical.",
                "",
            ]
            if any((r.get("reproduce") or {}).get("prompt_kept") for r in records)
            else []
        ),
        "## Proposed changes",
        "",
    ]
    if not proposed:
        out += ["Nothing to review.", ""]
    for number, record in enumerate(proposed, 1):
        key = f"c{number}"
        target = record["target"]
        payload = {
            "format": FORMAT,
            "id": key,
            "file": target["file"],
            "path": target["path"],
            "symbol": target["symbol"],
            "before": record["file_sha256"]["before"],
            "edits": record["edits"],
            "report": record.get("id"),
        }
        out += [
            _title(number, record),
            "",
            f"- [ ] apply change {number} <!-- edgewise:change {key} -->",
            "",
            facts_line(record),
            "",
            *_fence(record.get("diff") or "", "diff"),
            "",
            f"<!-- edgewise:data {key} {_encode(payload)} -->",
            "",
        ]
    if refused:
        out += ["## Refused", ""]
        for record in refused:
            out += [
                _title(None, record),
                "",
                f"**{record.get('outcome')}**: {record.get('reason') or '(no reason given)'}",
                "",
                facts_line(record),
                "",
            ]
            if record.get("diff"):
                out += [*_fence(record["diff"], "diff"), ""]
    if answers:
        out += ["## Answers without an edit", ""]
        for record in answers:
            out += [
                _title(None, record),
                "",
                facts_line(record),
                "",
                *_fence(record.get("text") or "", "text"),
                "",
            ]
    if applied:
        out += ["## Already applied by the run", ""]
        for record in applied:
            out += [
                _title(None, record),
                "",
                f"{record.get('reason') or 'written'} · {facts_line(record)}",
                "",
                *_fence(record.get("diff") or "", "diff"),
                "",
            ]
    return "\n".join(out).rstrip("\n") + "\n"


def write_review(path: Path, text: str) -> None:
    """Replace ``path`` with the review in one step (owner-only: it quotes code)."""
    why = check_review_path(path)
    if why is not None:
        raise ReviewError(f"--review {path}: {why}")
    write_private(path, text)


# --- reading -------------------------------------------------------------------------


@dataclass
class Proposal:
    """One change of a review as the person left it."""

    key: str
    ticked: bool
    data: dict[str, Any] | None  # None: its data comment is missing or unreadable
    shown_diff: str | None  # the diff block under it, as it now reads


@dataclass
class Review:
    roots: list[str]
    proposals: list[Proposal]


def parse(text: str) -> Review:
    if not text.startswith(HEADER):
        raise ReviewError("it is not an edgewise review (its first line is not edgewise's)")
    lines = text.split("\n")
    roots: list[str] = []
    proposals: dict[str, Proposal] = {}
    current: Proposal | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if match := ROOTS_LINE.match(line):
            try:
                roots = [str(r) for r in _decode(match.group(1))]
            except (ValueError, binascii.Error, TypeError):
                raise ReviewError("its roots line is damaged") from None
        elif match := CHANGE_LINE.match(line):
            key = match.group(2)
            if key in proposals:
                raise ReviewError(f"change {key} appears twice")
            current = proposals[key] = Proposal(key, match.group(1) in "xX", None, None)
        elif line.startswith("### ") or line.startswith("## "):
            current = None
        elif (
            (fence := FENCE_OPEN.match(line)) and current is not None and current.shown_diff is None
        ):
            body: list[str] = []
            while index < len(lines) and lines[index] != fence.group(1):
                body.append(lines[index])
                index += 1
            index += 1
            current.shown_diff = "\n".join(body)
        elif match := DATA_LINE.match(line):
            proposal = proposals.get(match.group(1))
            if proposal is None:
                continue
            try:
                data = _decode(match.group(2))
            except (ValueError, binascii.Error):
                data = None
            proposal.data = data if isinstance(data, dict) else None
    return Review(roots, list(proposals.values()))


def same_diff(shown: str | None, diff: str) -> bool:
    """The diff as shown equals ``diff`` (trailing blanks aside: an editor may strip them)."""
    if shown is None:
        return False

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.rstrip("\n").split("\n")]

    return lines(shown) == lines(diff)
