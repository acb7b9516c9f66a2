"""A completion: context -> generation -> post-processing -> report.

documents.sync -> prompts.completion_prompt (+ healing) -> result cache or
host.generate (stop rule from postprocess) -> postprocess.finish_completion ->
one report (calibrated, priced, whole-file saving) -> session and ledger
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from edgewise.completion_cache import CacheKey, Shown, cached_text, token_key
from edgewise.context.documents import ParsedDocument
from edgewise.context.multiline import node_before
from edgewise.context.positions import Pos
from edgewise.context.prompt import Prompt
from edgewise.model.backend import Backend, GenerationRequest, GenerationResult, runs_in_worker
from edgewise.model.worker_client import WorkerGone
from edgewise.pipeline.cold_prompt import cold_budget
from edgewise.pipeline.lost import record_lost
from edgewise.pipeline.offload import off_loop_if_remote
from edgewise.pipeline.postprocess import (
    FOLLOWING_LINES,
    PRECEDING_LINES,
    completion_stop,
    finish_completion,
    wants_multiline,
)
from edgewise.pipeline.prompts import (
    Sent,
    completion_prompt,
    fim_parts,
    healed,
    prompt_context,
)
from edgewise.pipeline.services import Services
from edgewise.report.builder import Usage, make_report, with_whole_file
from edgewise.report.record import ProducedBy, Report

CACHEABLE_STOPS = (
    "eos",
    "stop",
    "repeat",
    "max_tokens",
)  # complete answers, not cut by time or cancel
# Of ``maxCompletionMs``: how long generation may go on once the prompt is evaluated,
# even when evaluating it used up the cap (a cold prompt on a slow CPU).
GENERATION_SHARE = 0.5
# Of ``maxCompletionMs``: how long evaluating the prompt may take before the request gives
# up (what was evaluated stays cached, and the rest is evaluated while idle).
PROMPT_SHARE = 4.0
log = logging.getLogger(__name__)


@dataclass
class Completion:
    text: str
    report: dict[str, Any]
    hidden: bool  # below minConfidence
    shown: Shown | None = None  # for type-through, once the server has shown it
    result: GenerationResult | None = None  # the model's own tokens (benchmarks read them)
    cut_cold: bool = False  # the prompt was cut to fit coldPromptMs: prefill the full one
    # the report's logging (session, ledger, kept prompt), when the caller runs it after
    # answering (``defer_log``): the editor's answer does not wait for the disk
    log: Callable[[], Awaitable[None]] | None = None

    async def logged(self) -> None:
        """Runs the deferred logging, once."""
        log, self.log = self.log, None
        if log is not None:
            await log()


def prefill_at(
    services: Services, uri: str, text: str, pos: Pos, language_id: str | None = None
) -> int:
    """Evaluates the prompt a completion at ``pos`` would send into the model process's
    cache while the user is idle there, so that the first completion at ``pos``
    evaluates only its tail. Returns the number of tokens sent (0: nothing to do)."""
    backend = services.host.loaded()
    if not runs_in_worker(backend):
        return 0
    doc = services.documents.sync(uri, text, language_id)
    prompt = completion_prompt(services, backend, doc, pos)
    tokens = prompt.tokens[:-1]  # token healing evaluates the last one again
    services.host.prefill(tokens)
    return len(tokens)


def sent_prompt(
    services: Services,
    backend: Backend,
    doc: ParsedDocument,
    pos: Pos,
    heal: bool = True,
    budget: int | None = None,
) -> tuple[Prompt, Sent]:
    """What a completion at ``pos`` sends (the prompt, its last token healed), kept as
    ``last_prompt``: the one path of the server's completions and `edgewise context`."""
    prompt = completion_prompt(services, backend, doc, pos, budget)
    sent = healed(prompt, backend, heal)
    services.last_prompt = {"kind": "completion", "uri": doc.uri, **sent.described}
    return prompt, sent


def prepare(
    services: Services, uri: str, text: str, pos: Pos, language_id: str | None = None
) -> None:
    """Bring the syntax tree and the context choice for ``pos`` up to date now (the LSP
    server calls this while the debounce runs: what :func:`complete` then does before
    the model is mostly cached). Without a loaded local model, only the tree."""
    doc = services.documents.sync(uri, text, language_id)
    backend = services.host.loaded()
    if backend is None or getattr(backend, "remote_tokenizer", False):
        doc.advance_parse(services.completion_parse_s)
        return
    prompt = completion_prompt(services, backend, doc, pos)
    cold = cold_budget(services, backend, prompt.tokens)
    if cold is not None:  # the request will send the cut prompt: its context now
        completion_prompt(services, backend, doc, pos, cold.budget)
    # the whole file's count for the report, on another thread from now on: started
    # when the model starts, it made small answers wait for it
    services.whole_file.start(backend, doc)


async def complete(
    services: Services,
    uri: str,
    text: str,
    pos: Pos,
    language_id: str | None = None,
    action: str = "inline",
    cancel: threading.Event | None = None,
    *,
    single_line: bool = False,
    heal: bool = True,
    trim: bool = True,
    defer_log: bool = False,
    cold_cut: bool = False,
) -> Completion:
    """``single_line`` stops at the end of the line wherever the cursor is (calibration
    measures one-line suggestions); ``heal=False`` turns token healing off (bench);
    ``trim=False`` shows the whole suggestion whatever ``trimBelow`` says (calibration
    measures the model's own line); ``defer_log``: the report is logged when the caller
    runs ``Completion.logged()`` (the LSP server: after its answer is sent);
    ``cold_cut``: a prompt the model's cache does not hold is cut to ``coldPromptMs``
    (the LSP server, which then prefills the whole one; see pipeline/cold_prompt.py)."""
    settings = services.settings
    doc = services.documents.sync(uri, text, language_id)
    backend = await services.host.backend()
    prompt, sent = await off_loop_if_remote(backend, sent_prompt, services, backend, doc, pos, heal)
    cold = cold_budget(services, backend, sent.tokens) if cold_cut else None
    if cold is not None:  # the cache does not hold it: what fits in coldPromptMs
        prompt, sent = sent_prompt(services, backend, doc, pos, heal, cold.budget)
        prompt.notes.append(cold.note(settings.cold_prompt_ms))
    log.debug("completion prompt for %s: %r", uri, sent.described["text"])  # debug only
    index = services.line_index(doc)
    line, column = index.clamp(pos)
    with doc.parse_budget(services.completion_parse_s):
        before = node_before(doc, line, prompt.line_prefix)
    multiline = not single_line and wants_multiline(prompt.line_prefix, prompt.line_suffix, before)
    optimize = services.typing_optimizations
    key: CacheKey = (
        token_key(sent.tokens),
        settings.max_tokens,
        settings.temperature,
        settings.seed,
        multiline,
        sent.heal_prefix,
    )
    hit = services.results.get(key) if optimize else None
    request = GenerationRequest(
        prompt=sent.tokens,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        seed=settings.seed,
        heal_prefix=sent.heal_prefix,
        stop=completion_stop(prompt.line_prefix, multiline),
        deadline=time.monotonic() + settings.max_completion_ms / 1000.0,
        # a cold prompt is evaluated through (a newer request still stops it)
        prompt_deadline=time.monotonic() + settings.max_completion_ms * PROMPT_SHARE / 1000.0,
        # a prompt paid for gets its tokens: generation may go on past the cap
        min_generation_ms=settings.max_completion_ms * GENERATION_SHARE,
        text=sent.described["text"],
        infill=fim_parts(prompt),
        reuse_prefix=optimize,
    )
    if cancel is not None:
        request.cancel = cancel
    counting = services.whole_file.start(backend, doc)
    offset = int(index.starts[line]) + column
    start = index.position(offset)
    began = time.monotonic()
    try:
        result = hit.as_result() if hit else await services.host.generate(request)
    except WorkerGone as exc:  # no answer; the report says what happened
        context = {**prompt_context(prompt), "heal_prefix": sent.heal_prefix}
        record_lost(
            services,
            backend,
            exc,
            began,
            kind="completion",
            action=action,
            uri=uri,
            start=start,
            prompt_format=prompt.format,
            context=context,
        )
        raise
    # an answer given before its report is logged does not wait for the whole file's
    # count: a count that comes later is added to the report before it is logged
    whole_file = (
        services.whole_file.ready(counting)
        if defer_log
        else await services.whole_file.result(counting)
    )
    following = "".join(index.lines[line + 1 : line + 1 + FOLLOWING_LINES])
    above = "".join(index.lines[max(line - PRECEDING_LINES, 0) : line])
    finished = finish_completion(
        result.text,
        result.stop_reason,
        prompt.line_prefix,
        prompt.line_suffix,
        multiline,
        following,
        above=above,
        pieces=result.pieces,
        probs=result.probs,
        trim_below=settings.trim_below if trim else 0.0,
    )
    inserted = finished.text
    made = completion_record(
        services,
        backend,
        action,
        uri,
        start,
        inserted,
        result,
        prompt.format,
        {
            **prompt_context(prompt),
            "heal_prefix": sent.heal_prefix,
            **({"cold": cold.to_dict()} if cold is not None else {}),
        },
        cache=("hit" if hit else "miss") if optimize else "off",
        cached_from=hit.report_id if hit else None,
        produced_by=hit.producer if hit else None,
        whole_file=whole_file,
        cuts=[cut.to_dict() for cut in finished.cuts],
    )
    report, hidden = made.to_dict(), made.hidden is True
    if not hit and optimize and result.stop_reason in CACHEABLE_STOPS:
        services.results.put(key, cached_text(result, report))
    shown = None
    if optimize:
        kept = (hit or cached_text(result, report)).first(len(inserted))
        shown = Shown(doc.text, offset, start.line, start.character, kept, prompt.format)

    async def write_log() -> None:
        if whole_file is None and counting is not None and not hit:
            late = await services.whole_file.result(counting, patient=True)
            if late is not None:  # the same report (its id is out), with the count
                usage = Usage()
                usage.add(result)
                report.update(with_whole_file(made, late, usage, settings).to_dict())
        if not hit:
            services.keep_prompt(report, result)
        if finished.echoed:
            services.session.echoes += 1
        if hidden:
            services.session.hidden += 1
        services.session.add(report)

    done = Completion(inserted, report, hidden, shown, result, cut_cold=cold is not None)
    if defer_log:
        done.log = write_log
    else:
        await write_log()
    return done


def completion_record(
    services: Services,
    backend: Backend,
    action: str,
    uri: str,
    start: Pos,
    inserted: str,
    result: GenerationResult,
    prompt_format: str,
    context: dict[str, Any],
    *,
    cache: str | None = None,
    cached_from: str | None = None,
    produced_by: ProducedBy | None = None,
    whole_file: int | None = None,
    cuts: list[dict[str, Any]] | None = None,
) -> Report:
    """The report of a completion, calibrated (``hidden`` below ``minConfidence``)."""
    settings = services.settings
    usage = Usage()
    usage.add(result)
    return make_report(
        kind="completion",
        action=action,
        uri=uri,
        start=start,
        inserted=inserted,
        result=result,
        usage=usage,
        info=backend.info(),
        settings=settings,
        prompt_format=prompt_format,
        encoding=services.position_encoding,
        syntax_ok=None,
        reason="completions are not syntax-checked until accepted",
        context=context,
        calibration=services.calibration(backend),
        min_confidence=settings.min_confidence,
        whole_file=whole_file,
        cache=cache,
        cached_from=cached_from,
        active_ms=services.session.active_ms(usage.total_ms),
        produced_by=produced_by,
        cuts=cuts,
    )


def type_through(
    services: Services, uri: str, text: str, pos: Pos, action: str = "inline"
) -> Completion | None:
    """The rest of the suggestion last shown in ``uri`` when the user has typed its
    first characters (or the same suggestion for the same state); no model call."""
    backend = services.host.loaded()
    if not services.typing_optimizations or backend is None:
        return None
    found = services.shown.match(uri, text, pos.line, pos.character, services.position_encoding)
    if found is None:
        return None
    shown, typed = found
    rest = shown.suggestion.without_first(len(typed))
    made = completion_record(
        services,
        backend,
        action,
        uri,
        pos,
        rest.text,
        rest.as_result(),
        shown.prompt_format,
        {"notes": [f"type-through: {len(typed)} characters typed"]},
        cache="type-through" if typed else "hit",
        cached_from=rest.report_id,
        produced_by=rest.producer,
    )
    report, hidden = made.to_dict(), made.hidden is True
    services.session.add(report)
    next_shown = Shown(
        text, shown.offset + len(typed), pos.line, pos.character, rest, shown.prompt_format
    )
    return Completion(rest.text, report, hidden, next_shown)
