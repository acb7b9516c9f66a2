"""One code action, start to end: target -> plan -> chat prompt -> model -> render ->
edit checks -> syntax gate (one stricter retry) -> report."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgewise.actions.base import (
    ActionContext,
    DiagnosticInfo,
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
from edgewise.actions.catalog import ActionSpec, actions_for, get_action
from edgewise.actions.edits import FileEdit, TextChange, check_edit
from edgewise.actions.verify import verify_edit
from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import LineIndex, Pos, byte_range
from edgewise.model.backend import Backend, GenerationRequest, GenerationResult, ModelError
from edgewise.model.stops import MarkerStop
from edgewise.report.builder import Usage, build_report
from edgewise.report.savings import attach_whole_file

if TYPE_CHECKING:
    from edgewise.engine import Engine

MAX_ATTEMPTS = 2
MAX_FIX_OFFERS = 3


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


@dataclass(frozen=True)
class Offer:
    """An action that applies at a range (one per diagnostic for ``fix``)."""

    spec: ActionSpec
    title: str
    diagnostic: Mapping[str, Any] | None = None


@dataclass
class Attempt:
    result: GenerationResult
    rendered: Rendered | None = None
    edit: FileEdit | None = None
    problem: str | None = None
    syntax_ok: bool | None = None
    reason: str = ""


def diagnostic_info(
    doc: ParsedDocument, raw: Mapping[str, Any] | None, encoding: str
) -> DiagnosticInfo | None:
    """An LSP diagnostic (as the client sent it) with byte offsets into ``doc``."""
    if not raw:
        return None
    try:
        rng = raw["range"]
        start = Pos(int(rng["start"]["line"]), int(rng["start"]["character"]))
        end = Pos(int(rng["end"]["line"]), int(rng["end"]["character"]))
    except (KeyError, TypeError, ValueError):
        return None
    a_byte, b_byte = byte_range(doc.text, start, end, encoding)
    code = raw.get("code")
    return DiagnosticInfo(
        message=str(raw.get("message", "")),
        code="" if code is None else str(code),
        source=str(raw.get("source") or ""),
        start_byte=a_byte,
        end_byte=b_byte,
        range=rng,
    )


def offers(
    doc: ParsedDocument,
    start_byte: int,
    end_byte: int,
    diagnostics: list[Mapping[str, Any]],
    workspace: Workspace,
    encoding: str,
) -> list[Offer]:
    """The actions that apply at the range, cheaply (no model call)."""
    if doc.language is None or doc.tree is None:
        return []
    found: list[Offer] = []
    base = ActionContext(doc, start_byte, end_byte, workspace=workspace)
    for spec in actions_for(doc.language.name):
        if not spec.offered:
            continue
        if spec.id == "fix":
            for raw in diagnostics[:MAX_FIX_OFFERS]:
                info = diagnostic_info(doc, raw, encoding)
                ctx = ActionContext(doc, start_byte, end_byte, info, workspace=workspace)
                if info is not None and spec.find(ctx) is not None:
                    message = " ".join(info.message.split())
                    short = message if len(message) <= 60 else message[:57] + "..."
                    found.append(Offer(spec, spec.title.format(message=short), raw))
            continue
        if spec.find(base) is not None:
            found.append(Offer(spec, spec.title))
    return found


class ActionRunner:
    """Runs one action for an engine (its model host, settings, session and documents)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def run(
        self,
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
        engine = self.engine
        spec = get_action(action_id)
        if spec is None:
            raise ModelError(f"unknown action '{action_id}'")
        doc = engine.documents.sync(uri, text, language_id)
        if doc.language is None or doc.language.name not in spec.languages:
            raise ModelError(f"'{_label(spec)}' does not support this language")
        start_byte, end_byte = byte_range(doc.text, start, end, engine.position_encoding)
        ctx = ActionContext(
            doc,
            start_byte,
            end_byte,
            diagnostic_info(doc, diagnostic, engine.position_encoding),
            instruction,
            workspace or Workspace(),
        )
        target = spec.find(ctx)
        if target is None:
            raise ModelError(f"'{_label(spec)}' does not apply here any more")
        try:
            if spec.plans_from_disk:  # the disk may be slow: the server keeps answering
                plan = await asyncio.to_thread(spec.plan, ctx, target)
            else:
                plan = spec.plan(ctx, target)
        except RenderError as exc:
            raise ModelError(f"'{_label(spec)}': {exc}") from exc
        if plan is None:
            raise ModelError(f"'{_label(spec)}' cannot place its text here")
        backend = await engine.host.backend()
        counting = engine.whole_file.start(backend, doc)
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
            result = await self._generate(backend, spec, plan, user, uri, cancel)
            usage.add(result)
            attempt = self._judge(doc, plan, result)
            if result.stop_reason == "cancelled":
                attempt.problem = "cancelled before the model finished"
                break
            if attempt.problem is None:
                break
            problems.append(attempt.problem)
        assert attempt is not None
        whole_file = await engine.whole_file.result(counting)
        return self._finish(
            spec, doc, target, plan, attempt, usage, backend, len(problems), whole_file
        )

    async def _generate(
        self,
        backend: Backend,
        spec: ActionSpec,
        plan: Plan,
        user: str,
        uri: str,
        cancel: threading.Event | None,
    ) -> GenerationResult:
        from edgewise.engine import off_loop_if_remote

        engine = self.engine
        messages = [{"role": "system", "content": spec.system}, {"role": "user", "content": user}]
        rendered = await off_loop_if_remote(backend, backend.render_chat, messages)
        prompt_text = rendered + plan.prefill
        tokens = await off_loop_if_remote(backend, backend.tokenize, prompt_text, True)
        settings = engine.settings
        budget = max(settings.context_length - settings.action_max_tokens - 1, 64)
        if len(tokens) > budget:
            raise ModelError(
                f"the code is too long for the model's context "
                f"({len(tokens)} tokens > {budget}); raise `contextLength`"
            )
        engine.last_prompt = {
            "kind": "action",
            "action": spec.id,
            "uri": uri,
            "text": prompt_text,
            "prompt_tokens": len(tokens),
            "format": "chat",
            "pieces": [],
            "assembly_ms": 0.0,
            "notes": [],
        }
        request = GenerationRequest(
            prompt=tokens,
            max_tokens=settings.action_max_tokens,
            temperature=settings.temperature,
            seed=settings.seed,
            stop=plan.stop or _marker_stop(plan.stop_markers),
            text=prompt_text,
            # a chat server gets the start of the reply as the assistant's own message
            messages=messages
            + ([{"role": "assistant", "content": plan.prefill}] if plan.prefill else []),
        )
        if cancel is not None:
            request.cancel = cancel
        return await engine.host.generate(request)

    def _judge(self, doc: ParsedDocument, plan: Plan, result: GenerationResult) -> Attempt:
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
            imports = TextChange(
                plan.import_offset, plan.import_offset, to_eol(rendered.imports, eol)
            )
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
        problem = check_edit(edit, self.engine.position_encoding)
        if problem is not None:
            attempt.problem = problem
            return attempt
        verdict = verify_edit(language, before, edit.after)
        attempt.syntax_ok = verdict.syntax_ok
        attempt.reason = verdict.reason
        if verdict.syntax_ok is False:
            attempt.problem = verdict.reason
        return attempt

    def _finish(
        self,
        spec: ActionSpec,
        doc: ParsedDocument,
        target: Target,
        plan: Plan,
        attempt: Attempt,
        usage: Usage,
        backend: Backend,
        rejected: int,
        whole_file: int | None,
    ) -> ActionResult:
        engine = self.engine
        encoding = engine.position_encoding
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
        if plan.output == "text":
            syntax_ok = None
        report = build_report(
            kind="action",
            action=spec.id,
            uri=uri,
            start=start_pos,
            inserted=inserted,
            result=attempt.result,
            usage=usage,
            info=backend.info(),
            settings=engine.settings,
            prompt_format="chat",
            encoding=encoding,
            syntax_ok=syntax_ok,
            reason=disabled or attempt.reason,
            context={
                "prompt_tokens": engine.last_prompt["prompt_tokens"] if engine.last_prompt else 0,
                "target": target.kind,
                "rejected_attempts": rejected,
                **({"file": edit.uri, "created": edit.create} if edit and plan.uri else {}),
            },
        )
        if plan.output == "text":
            end_pos = LineIndex(doc.text, encoding).position(char_offset(doc.data, target.end_byte))
            report["range"]["end"] = end_pos.to_dict()
        attach_whole_file(report, whole_file, engine.settings.pricing)
        engine.session.add(report)
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
        )


def join_reply(prefill: str, text: str) -> str:
    """The reply as the model continued the start written for it. A chat server that
    answered from scratch instead (its reply opens its own code fence) is taken as is."""
    if prefill and text.lstrip().startswith("```"):
        return text
    return prefill + text


def _marker_stop(markers: tuple[str, ...]) -> MarkerStop:
    return MarkerStop(markers)


def _label(spec: ActionSpec) -> str:
    return spec.title.replace(": {message}", "")
