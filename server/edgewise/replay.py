"""`edgewise replay REPORT_ID`: send a report's model call again — the same prompt, model
file, sampler, seed and stop rule, through the same engine — and say whether the text
is the same.

The report (from the report log, or a batch report named with ``--from``) names the
prompt by its hash; the prompt itself comes from the prompt store (``keepPrompts``).
A replay never writes a report to the ledger: it is a check, not a request.
"""

from __future__ import annotations

import asyncio
import difflib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edgewise.config import Settings
from edgewise.model.backend import GenerationRequest, ModelError
from edgewise.model.llama import thread_counts
from edgewise.model.registry import file_sha256
from edgewise.model.sent import EngineFacts, sha256_text, stop_from_spec
from edgewise.paths import cache_dir, state_dir
from edgewise.report.ledger import LOG_NAME, ReportLog
from edgewise.report.prompt_store import NotKept, PromptStore


class CannotReplay(Exception):
    """The report cannot be replayed (the message says why); nothing was run."""


@dataclass
class Replayed:
    report: dict[str, Any]
    identical: bool
    then: str | None  # the original text when the store kept it
    now: str
    now_sha256: str
    engine: EngineFacts | None
    cut_short: bool = False  # the original was cut by time: compared as far as it went
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.identical:
            return "identical as far as the original went" if self.cut_short else "identical"
        return "different"

    def diff(self) -> str:
        if self.identical or self.then is None:
            return ""
        rid = self.report["id"]
        lines = difflib.unified_diff(
            self.then.splitlines(keepends=True),
            self.now.splitlines(keepends=True),
            f"report {rid} (then)",
            "replay (now)",
        )
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline\n" for line in lines
        )

    def to_dict(self) -> dict[str, Any]:
        reproduce = self.report.get("reproduce") or {}
        return {
            "report": self.report["id"],
            "verdict": self.verdict,
            "identical": self.identical,
            "reproducible": reproduce.get("reproducible"),
            "output_sha256": {"then": reproduce.get("output_sha256"), "now": self.now_sha256},
            "text": {"then": self.then, "now": self.now},
            "notes": self.notes,
            "diff": self.diff(),
        }

    def describe(self) -> str:
        report = self.report
        reproduce = report.get("reproduce") or {}
        model = report["model"]
        how = "greedy" if report["sampler"]["temperature"] <= 0 else f"seed {report['seed']}"
        lines = [
            f"report {report['id']} ({report['kind']} {report['action']}, {report.get('created', '?')}): "
            f"{reproduce.get('backend')} {reproduce.get('backend_version')}, model {model['name']} "
            f"(sha256 {model['sha256'][:12]}…), {how}"
        ]
        size = len(self.now)
        if self.identical:
            lines.append(
                f"{self.verdict}: the same {size} characters (sha256 {self.now_sha256[:12]}…)"
            )
        else:
            then_sha = str(reproduce.get("output_sha256", ""))
            lines.append(
                f"DIFFERENT: the replay gave {size} characters (sha256 {self.now_sha256[:12]}…), "
                f"the report {then_sha[:12]}…"
            )
        if not reproduce.get("reproducible", True):
            lines.append(f"not reproducible by design: {reproduce.get('note')}")
        lines.extend(f"note: {note}" for note in self.notes)
        diff = self.diff()
        if diff:
            lines.append(diff.rstrip("\n"))
        elif not self.identical:
            lines.append("(no diff: the prompt store holds no original text)")
        return "\n".join(lines)


def find_report(report_id: str, sources: list[Path] | None = None) -> dict[str, Any]:
    """The report with this id in the report log (and its rotated files) or in the named
    files (batch reports); the last one wins. CannotReplay when none has it."""
    logs = [ReportLog(path) for path in sources] if sources else [ReportLog(state_dir() / LOG_NAME)]
    found: dict[str, Any] | None = None
    read = 0
    for log in logs:
        if sources and not log.path.exists():
            raise CannotReplay(f"no such file: {log.path}")
        for report in log.read().reports:
            read += 1
            if report.get("id") == report_id:
                found = report
    if found is None:
        where = ", ".join(str(log.path) for log in logs)
        raise CannotReplay(f"no report '{report_id}' in {where} ({read} reports read)")
    return found


def settings_for(report: dict[str, Any], settings: Settings, model: str | None) -> Settings:
    """The user's settings with what the report fixes: its model file (unless ``model``
    names another), sampler, seed and threads."""
    backend = str(report["model"].get("backend") or "embedded")
    reproduce = report["reproduce"]
    changes: dict[str, Any] = {
        "temperature": float(report["sampler"]["temperature"]),
        "seed": int(report["seed"]),
        "keep_prompts": False,
    }
    if backend == "embedded":
        changes["backend"] = "embedded"
        changes["model"] = model or str(report["model"].get("path") or "")
        threads = reproduce.get("threads")
        if isinstance(threads, list) and len(threads) == 2:
            auto = thread_counts(0, os.cpu_count() or 1)
            if tuple(threads) != auto:
                changes["threads"] = int(threads[0])
    elif settings.backend == "embedded":
        raise CannotReplay(
            f"report {report['id']} was made by a remote server ({report['model'].get('path')}): "
            "give its --backend URL (and --settings for its key) to replay it"
        )
    return replace(settings, **changes)


def check_model(report: dict[str, Any], settings: Settings) -> None:
    """The embedded model file must be the one the report was made with."""
    if settings.backend != "embedded":
        return
    from edgewise.model.registry import resolve_model

    try:
        path = resolve_model(settings.model, allow_download=False).path
    except ModelError as exc:
        raise CannotReplay(f"cannot find the model of report {report['id']}: {exc}") from None
    then = str(report["model"]["sha256"])
    try:
        now = file_sha256(Path(path), cache_dir())
    except OSError as exc:
        raise CannotReplay(f"cannot read the model file {path}: {exc.strerror}") from None
    if now != then:
        raise CannotReplay(
            f"the model file {path} is not the one report {report['id']} was made with "
            f"(sha256 {now[:12]}… now, {then[:12]}… then): a replay needs the same file "
            "(name it with --model)"
        )


def engine_notes(report: dict[str, Any], now: EngineFacts) -> list[str]:
    """What differs between the engine then and now (a cause when the text differs)."""
    then = report["reproduce"]
    notes = []
    pairs = (
        ("backend", then.get("backend"), now.backend),
        ("backend version", then.get("backend_version"), now.version),
        ("threads", then.get("threads"), list(now.threads) if now.threads else None),
        ("CPU features", then.get("cpu_features"), now.cpu_features),
    )
    for name, old, new in pairs:
        if old != new:
            notes.append(f"{name} differs: {old!r} then, {new!r} now")
    return notes


async def replay(
    report_id: str,
    settings: Settings,
    *,
    model: str | None = None,
    sources: list[Path] | None = None,
    store: PromptStore | None = None,
) -> Replayed:
    from edgewise.engine import Engine

    report = find_report(report_id, sources)
    reproduce = report.get("reproduce")
    if not isinstance(reproduce, dict):
        why = (
            f"it came from the result cache; replay the report it was served from: {report['cached_from']}"
            if report.get("cached_from")
            else "it was made by an older edgewise (or no model call ran) and does not "
            "record what determined its text"
        )
        raise CannotReplay(f"report {report_id} cannot be replayed: {why}")
    if not reproduce.get("prompt_kept"):
        raise CannotReplay(
            f"report {report_id}'s prompt was not kept (setting keepPrompts was off): only "
            f"its hash {str(reproduce['prompt_sha256'])[:12]}… is known. Turn keepPrompts on "
            "(or run `edgewise refactor --keep-prompts`) to replay later requests"
        )
    try:
        kept = (store or PromptStore()).read(report_id, str(reproduce["prompt_sha256"]))
    except NotKept as exc:
        raise CannotReplay(str(exc)) from None
    run_settings = settings_for(report, settings, model)
    check_model(report, run_settings)
    request_fields = kept.request
    try:
        stop = stop_from_spec(request_fields.get("stop"))
    except ValueError as exc:
        raise CannotReplay(f"report {report_id}: {exc}") from None
    prompt = kept.prompt
    tokens = [int(t) for t in prompt["tokens"]]
    max_tokens = int(request_fields["max_tokens"])
    needed = len(tokens) + max_tokens + 8
    if run_settings.backend == "embedded" and needed > run_settings.context_length:
        run_settings = replace(run_settings, context_length=min(needed, 131072))
    request = GenerationRequest(
        prompt=tokens,
        max_tokens=max_tokens,
        temperature=float(request_fields["temperature"]),
        seed=int(request_fields["seed"]),
        stop=stop,
        heal_prefix=str(prompt.get("heal_prefix") or ""),
        text=prompt.get("text"),
        messages=prompt.get("messages"),
        infill=tuple(prompt["infill"]) if prompt.get("infill") else None,
        reuse_prefix=False,
    )
    engine = Engine(run_settings, allow_download=False, report_log=False)
    try:
        try:
            result = await engine.host.generate(request)
        except ModelError as exc:
            raise CannotReplay(f"the model could not run: {exc}") from None
    finally:
        engine.close()
    now_sha = sha256_text(result.text)
    then_sha = str(reproduce["output_sha256"])
    cut_short = report.get("stop_reason") in ("time", "cancelled")
    identical = now_sha == then_sha or (cut_short and result.text.startswith(kept.output))
    sent = result.sent
    notes = engine_notes(report, sent.engine) if sent is not None else []
    if cut_short:
        notes.append(
            f"the original stopped by {report.get('stop_reason')}: compared as far as it went"
        )
    return Replayed(
        report,
        identical,
        kept.output,
        result.text,
        now_sha,
        sent.engine if sent else None,
        cut_short,
        notes,
    )


def run_replay(
    report_id: str,
    settings: Settings,
    *,
    model: str | None = None,
    sources: list[Path] | None = None,
) -> Replayed:
    return asyncio.run(replay(report_id, settings, model=model, sources=sources))
