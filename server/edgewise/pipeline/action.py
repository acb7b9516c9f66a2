"""An action, start to end: target -> plan -> prompt (chat; infill or prefix without a
chat template) -> generation -> verification
(edit checks, syntax gate, one stricter retry) -> report."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edgewise.actions.agreement import (
    agreement,
    agrees,
    sample_seeds,
    sample_temperature,
    unsure_note,
)
from edgewise.actions.base import (
    ActionContext,
    Plan,
    Rendered,
    RenderError,
    Target,
    Workspace,
    char_offset,
    eol_of,
    plain_lines,
    to_eol,
)
from edgewise.actions.catalog import ActionSpec, get_action
from edgewise.actions.checkers import CheckOutcome
from edgewise.actions.edits import FileEdit, TextChange, check_edit
from edgewise.actions.offers import Offer, diagnostic_info, label, offers
from edgewise.actions.regions import selected_lines
from edgewise.actions.test_guard import GuardVerdict, guard_edit
from edgewise.actions.testgen import uri_path
from edgewise.actions.verify import verify_edit
from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import LineIndex, Pos
from edgewise.errors import ActionNotApplicable, BadInput, ModelError, UnknownAction
from edgewise.model.backend import Backend, GenerationRequest, GenerationResult
from edgewise.model.worker_client import WorkerGone
from edgewise.pipeline.infill import as_prompted, generate_plain
from edgewise.pipeline.lost import record_lost
from edgewise.pipeline.postprocess import marker_stop
from edgewise.pipeline.prompts import action_format, chat_prompt
from edgewise.pipeline.services import Services
from edgewise.report.builder import Usage, build_report
from edgewise.report.record import Agreement

MAX_ATTEMPTS = 2


@dataclass
class ActionResult:
    action: ActionSpec
    edit_offset: int  # where the action's own text starts in the target file (before)
    new_text: str  # the text that replaces [edit_offset, edit_end) of the target file
    report: dict[str, Any]
    disabled_reason: str | None = None
    files: list[FileEdit] = field(default_factory=list)  # every file the edit changes
    text: str | None = None  # what an explanation says (output "text": no edit)
    edit_end: int | None = None
    unsure: str | None = None  # the extra samples disagree: said in the action's title


@dataclass
class Attempt:
    result: GenerationResult
    rendered: Rendered | None = None
    edit: FileEdit | None = None
    problem: str | None = None
    syntax_ok: bool | None = None
    reason: str = ""
    gate: str | None = None  # the gate that refused it: syntax | tests | checks
    guard: GuardVerdict | None = None
    checks: CheckOutcome | None = None


@dataclass(frozen=True)
class Planned:
    """An action placed: where its target is and what its reply will replace."""

    spec: ActionSpec
    doc: ParsedDocument
    target: Target
    plan: Plan


def available_actions(
    services: Services,
    uri: str,
    text: str,
    start: Pos,
    end: Pos,
    language_id: str | None = None,
    diagnostics: list[Mapping[str, Any]] | None = None,
    workspace: Workspace | None = None,
) -> list[Offer]:
    """The actions that apply at the range (cheap: no model call)."""
    doc = services.documents.sync(uri, text, language_id)
    encoding = services.position_encoding
    start_byte, end_byte = LineIndex(doc.text, encoding).byte_range(start, end)
    return offers(
        doc, start_byte, end_byte, list(diagnostics or []), workspace or Workspace(), encoding
    )


async def plan_action(
    services: Services,
    action_id: str,
    uri: str,
    text: str,
    start: Pos,
    end: Pos,
    language_id: str | None,
    diagnostic: Mapping[str, Any] | None,
    instruction: str,
    workspace: Workspace | None,
) -> Planned:
    """The action's target and plan at the range, or why there is none."""
    spec = get_action(action_id)
    if spec is None:
        raise UnknownAction(f"unknown action '{action_id}'")
    doc = services.documents.sync(uri, text, language_id)
    if doc.language is None or doc.language.name not in spec.languages:
        raise ActionNotApplicable(f"'{label(spec)}' does not support this language")
    encoding = services.position_encoding
    start_byte, end_byte = LineIndex(doc.text, encoding).byte_range(start, end)
    start_byte, end_byte = selected_lines(doc, start_byte, end_byte)
    ctx = ActionContext(
        doc,
        start_byte,
        end_byte,
        diagnostic_info(doc, diagnostic, encoding),
        instruction,
        workspace or Workspace(),
    )
    target = spec.find(ctx)
    if target is None:
        raise ActionNotApplicable(f"'{label(spec)}' does not apply here any more")
    try:
        if spec.plans_from_disk:  # the disk may be slow: the server keeps answering
            plan = await asyncio.to_thread(spec.plan, ctx, target)
        else:
            plan = spec.plan(ctx, target)
    except RenderError as exc:
        raise ActionNotApplicable(f"'{label(spec)}': {exc}") from exc
    if plan is None:
        raise ActionNotApplicable(f"'{label(spec)}' cannot place its text here")
    return Planned(spec, doc, target, plan)


async def run_action(
    services: Services,
    action_id: str,
    uri: str,
    text: str,
    start: Pos,
    end: Pos,
    language_id: str | None = None,
    *,
    diagnostic: Mapping[str, Any] | None = None,
    instruction: str = "",
    workspace: Workspace | None = None,
    cancel: threading.Event | None = None,
    on_attempt: Callable[[int, str], None] | None = None,
) -> ActionResult:
    """Run one action; ``on_attempt(number, what)`` hears of each model call."""
    planned = await plan_action(
        services, action_id, uri, text, start, end, language_id, diagnostic, instruction, workspace
    )
    spec, doc, target, plan = planned.spec, planned.doc, planned.target, planned.plan
    backend = await services.host.backend()
    plan = as_prompted(plan, prompt_format(services, backend, plan))
    counting = services.whole_file.start(backend, doc)
    assert doc.language is not None
    language = doc.language.name
    fields = {
        "language": language,
        "kind": target.kind,
        "name": target.name,
        "code": target.code,
        **target.fields,
        **plan.fields,
    }
    user = spec.instruction.format(**fields)
    usage = Usage()
    attempt: Attempt | None = None
    problems: list[str] = []
    for number in range(1, MAX_ATTEMPTS + 1):
        if number > 1:
            user += spec.strict.format(problem=problems[-1], language=language)
            if on_attempt is not None:
                on_attempt(number, f"regenerating: {problems[-1]}")
        elif on_attempt is not None:
            on_attempt(number, "generating")
        began = time.monotonic()
        try:
            result = await generate(services, backend, spec, plan, user, uri, cancel)
        except WorkerGone as exc:  # no answer; the report says what happened
            at = char_offset(doc.data, target.start_byte)
            start_pos = LineIndex(doc.text, services.position_encoding).position(at)
            record_lost(
                services,
                backend,
                exc,
                began,
                kind="action",
                action=spec.id,
                uri=uri,
                start=start_pos,
                prompt_format="chat",
                usage=usage,
                context={"target": target.kind, "rejected_attempts": len(problems)},
            )
            raise
        usage.add(result)
        attempt = judge(doc, plan, result, services.position_encoding)
        if result.stop_reason == "cancelled":
            attempt.problem = "cancelled before the model finished"
            break
        if attempt.problem is None:
            await gate(services, spec, attempt, workspace)
        if attempt.problem is None:
            break
        problems.append(attempt.problem)
    assert attempt is not None
    attempts = usage.calls
    found: Agreement | None = None
    if (
        attempt.problem is None
        and attempt.edit is not None
        and services.settings.action_samples > 1
    ):
        if on_attempt is not None:
            on_attempt(attempts + 1, f"{services.settings.action_samples - 1} more sample(s)")
        found = await sample_agreement(
            services, backend, planned, user, uri, cancel, attempt, usage
        )
    whole_file = await services.whole_file.result(counting)
    return finish(
        services, planned, attempt, usage, backend, len(problems), whole_file, attempts, found
    )


async def gate(
    services: Services, spec: ActionSpec, attempt: Attempt, workspace: Workspace | None
) -> None:
    """The gates after the syntax gate: the test guard, then the project's checkers;
    sets ``attempt.problem`` (and ``gate``) when one refuses the edit."""
    edit = attempt.edit
    if edit is None:
        return
    settings = services.settings
    path = uri_path(edit.uri)
    language = edit.language
    attempt.guard = guard_edit(
        language,
        path,
        spec.id,
        edit.before,
        edit.after,
        edit.changes,
        settings.allow_test_changes,
    )
    refused = attempt.guard.refused
    if refused is not None:
        attempt.problem, attempt.gate = refused, "tests"
        return
    if attempt.guard.findings:
        attempt.reason += "; test changes allowed: " + "; ".join(attempt.guard.findings)
    root = (workspace or Workspace()).root_of(path) if path is not None else None
    outcome = await services.checkers.check(
        path,
        root,
        language.name if language is not None else None,
        edit.before,
        edit.after,
        settings.checks.tools,
        settings.checks.timeout_ms / 1000,
    )
    attempt.checks = outcome
    if outcome.problem is not None:
        attempt.problem, attempt.gate = outcome.problem, "checks"
    elif outcome.runs:
        attempt.reason += f"; {outcome.summary()}"


async def sample_agreement(
    services: Services,
    backend: Backend,
    planned: Planned,
    user: str,
    uri: str,
    cancel: threading.Event | None,
    offered: Attempt,
    usage: Usage,
) -> Agreement | None:
    """Draw the extra samples (seeded) and compare each with the offered edit (None when
    none could be drawn: cancelled, or the model failed)."""
    settings = services.settings
    temperature = sample_temperature(settings.temperature)
    seeds = sample_seeds(settings.seed, settings.action_samples)
    assert offered.edit is not None and offered.rendered is not None
    language = offered.edit.language
    methods: list[str | None] = []
    prompt = services.last_prompt  # the offered reply's prompt stays the one shown
    for seed in seeds:
        if cancel is not None and cancel.is_set():
            break
        try:
            result = await generate(
                services, backend, planned.spec, planned.plan, user, uri, cancel, seed, temperature
            )
        except ModelError:
            break  # the offered edit stands; the samples drawn so far are reported
        usage.add(result)
        if result.stop_reason == "cancelled":
            break
        other = judge(planned.doc, planned.plan, result, services.position_encoding)
        methods.append(
            agrees(
                language,
                offered.rendered.text,
                offered.edit.after,
                other.rendered.text if other.rendered else None,
                other.edit.after if other.edit else None,
            )
        )
    services.last_prompt = prompt
    return agreement(methods, temperature, seeds[: len(methods)]) if methods else None


async def generate(
    services: Services,
    backend: Backend,
    spec: ActionSpec,
    plan: Plan,
    user: str,
    uri: str,
    cancel: threading.Event | None,
    seed: int | None = None,
    temperature: float | None = None,
) -> GenerationResult:
    """The chat prompt (or, for a model without a chat template, the action's infills or
    instruction as text), checked against the model's context, sent to the model (an
    extra sample passes its own ``seed`` and ``temperature``)."""
    settings = services.settings
    budget = max(settings.context_length - settings.action_max_tokens - 1, 64)
    form = prompt_format(services, backend, plan)
    if form != "chat":
        return await generate_plain(
            services, backend, spec, plan, user, uri, cancel, form, budget, seed, temperature
        )
    prompt = await chat_prompt(backend, spec.system, user, plan.prefill)
    if len(prompt.tokens) > budget:
        raise BadInput(
            f"the code is too long for the model's context "
            f"({len(prompt.tokens)} tokens > {budget}); raise `contextLength`"
        )
    services.last_prompt = prompt.described(spec.id, uri)
    request = GenerationRequest(
        prompt=prompt.tokens,
        max_tokens=settings.action_max_tokens,
        temperature=settings.temperature if temperature is None else temperature,
        seed=settings.seed if seed is None else seed,
        stop=plan.stop or marker_stop(plan.stop_markers),
        text=prompt.text,
        messages=prompt.messages,
    )
    if cancel is not None:
        request.cancel = cancel
    return await services.host.generate(request)


def prompt_format(services: Services, backend: Backend, plan: Plan) -> str:
    """chat | fim | prefix: how this action asks this model (``actionPrompt``)."""
    return action_format(services.settings.action_prompt, backend.info(), plan.infill is not None)


def judge(doc: ParsedDocument, plan: Plan, result: GenerationResult, encoding: str) -> Attempt:
    """Render the reply into an edit and check it; ``problem`` says why it is unusable."""
    attempt = Attempt(result)
    try:
        rendered = plan.render(join_reply(plan.prefill, result.text))
    except RenderError as exc:
        attempt.problem = str(exc)
        return attempt
    attempt.rendered = rendered
    if not rendered.text.strip():
        attempt.problem = "the model produced no usable text"
        return attempt
    if plan.output == "text":
        attempt.reason = "an explanation: nothing is edited"
        return attempt
    before = doc.text if plan.uri is None else (plan.base_text or "")
    eol = eol_of(before) if before else eol_of(doc.text)
    imports = None
    if rendered.imports and plan.import_offset is not None:
        imports = TextChange(plan.import_offset, plan.import_offset, to_eol(rendered.imports, eol))
    language = plan.language or doc.language
    edit = FileEdit(
        uri=plan.uri or doc.uri,
        before=before,
        main=TextChange(plan.start, plan.end, to_eol(rendered.text, eol)),
        imports=imports,
        claimed=(plan.start, plan.end),
        import_offset=plan.import_offset,
        create=plan.create,
        version=plan.version,
        language=language,
    )
    attempt.edit = edit
    problem = check_edit(edit, encoding)
    if problem is not None:
        attempt.problem = problem
        return attempt
    verdict = verify_edit(language, before, edit.after)
    attempt.syntax_ok = verdict.syntax_ok
    attempt.reason = verdict.reason
    if verdict.syntax_ok is False:
        attempt.problem, attempt.gate = verdict.reason, "syntax"
    return attempt


def finish(
    services: Services,
    planned: Planned,
    attempt: Attempt,
    usage: Usage,
    backend: Backend,
    rejected: int,
    whole_file: int | None,
    attempts: int | None = None,
    found: Agreement | None = None,
) -> ActionResult:
    """The action's report (into the session) and its result."""
    spec, doc, target, plan = planned.spec, planned.doc, planned.target, planned.plan
    encoding = services.position_encoding
    disabled = attempt.problem
    if disabled is not None and usage.calls > 1:
        disabled = f"{disabled} (after {usage.calls} attempts)"
    edit = attempt.edit
    if plan.output == "text" or edit is None:
        at = char_offset(doc.data, target.start_byte)
        start_pos = LineIndex(doc.text, encoding).position(at)
        inserted = ""
        uri = doc.uri
    else:
        start_pos = LineIndex(edit.after, encoding).position(edit.main_start_after())
        inserted = plain_lines(edit.main.new_text)
        uri = edit.uri
    syntax_ok = attempt.syntax_ok if disabled is None else False
    if disabled is not None and attempt.gate in ("tests", "checks"):
        syntax_ok = attempt.syntax_ok  # it parsed; another gate refused it
    unsure = unsure_note(found) if found is not None and found.unsure else None
    reason = disabled or attempt.reason
    if unsure is not None:
        reason += f"; {unsure}"
    end_pos = None
    if plan.output == "text":  # the report covers the code explained
        syntax_ok = None
        end_pos = LineIndex(doc.text, encoding).position(char_offset(doc.data, target.end_byte))
    last_prompt = services.last_prompt
    report = build_report(
        kind="action",
        action=spec.id,
        uri=uri,
        start=start_pos,
        inserted=inserted,
        result=attempt.result,
        usage=usage,
        info=backend.info(),
        settings=services.settings,
        prompt_format=last_prompt["format"] if last_prompt else "chat",
        encoding=encoding,
        syntax_ok=syntax_ok,
        reason=reason,
        context={
            "prompt_tokens": last_prompt["prompt_tokens"] if last_prompt else 0,
            "target": target.kind,
            "rejected_attempts": rejected,
            **({"file": edit.uri, "created": edit.create} if edit and plan.uri else {}),
        },
        end=end_pos,
        whole_file=whole_file,
        active_ms=services.session.active_ms(usage.total_ms),
        attempts=attempts,
        gate=attempt.gate if disabled is not None else None,
        checks=list(attempt.checks.runs) if attempt.checks is not None else None,
        tests=attempt.guard.facts() if attempt.guard is not None else None,
        agreement=found,
    )
    services.session.add(report)
    services.keep_prompt(report, attempt.result)
    text = attempt.rendered.text if attempt.rendered and plan.output == "text" else None
    return ActionResult(
        action=spec,
        edit_offset=plan.start,
        new_text=edit.main.new_text if edit else "",
        report=report,
        disabled_reason=disabled,
        files=[edit] if edit is not None and disabled is None else [],
        text=text if disabled is None else None,
        edit_end=plan.end,
        unsure=unsure,
    )


def join_reply(prefill: str, text: str) -> str:
    """The reply as the model continued the start written for it. A chat server that
    answered from scratch instead (its reply opens its own code fence) is taken as is."""
    if prefill and text.lstrip().startswith("```"):
        return text
    return prefill + text
