"""Builds the report object (schemas/report.schema.json) of one completion or action."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any

from edgewise.calibration.store import CalibrationMap
from edgewise.config import Settings
from edgewise.context.positions import Pos, end_after_insert
from edgewise.model.backend import GenerationResult, ModelInfo
from edgewise.report.confidence import SCORE_FORMULA, score_tokens
from edgewise.report.cost import compute_cost, compute_remote_cost
from edgewise.report.record import (
    ABSENT,
    Absent,
    Agreement,
    CalibrationFacts,
    CheckRun,
    Confidence,
    Lost,
    LowSpan,
    ModelFacts,
    Money,
    ProducedBy,
    Report,
    Reproduce,
    Sampler,
    Span,
    TestGuard,
    Times,
    Tokens,
    Verified,
)


@dataclass
class Usage:
    """Tokens and times of one or more model calls (an action may retry once)."""

    prompt: int = 0
    completion: int = 0
    cached: int = 0
    total_ms: float = 0.0
    prompt_ms: float = 0.0
    generation_ms: float = 0.0
    queue_ms: float = 0.0
    calls: int = 0
    source: str = "measured"
    time_source: str = "measured"
    last_tokens: int = 0  # the latest call's (an action's earlier calls were rejected)
    last_ms: float = 0.0

    @property
    def regenerated_tokens(self) -> int:
        """Tokens of the calls before the latest (attempts asked again)."""
        return self.prompt + self.completion - self.last_tokens

    @property
    def regenerated_ms(self) -> float:
        return max(self.total_ms - self.last_ms, 0.0)

    def add(self, result: GenerationResult) -> None:
        self.last_tokens = result.prompt_tokens + result.completion_tokens
        self.last_ms = result.total_ms
        self.prompt += result.prompt_tokens
        self.completion += result.completion_tokens
        self.cached += result.cached_tokens
        self.total_ms += result.total_ms
        self.prompt_ms += result.prompt_ms
        self.generation_ms += result.generation_ms
        self.queue_ms += result.queue_ms
        self.calls += 1
        self.source = result.source
        self.time_source = result.time_source or result.source


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def build_report(**facts: Any) -> dict[str, Any]:
    """The report's JSON object (see :func:`make_report` for the facts it takes)."""
    return make_report(**facts).to_dict()


def make_report(
    *,
    kind: str,
    action: str,
    uri: str,
    start: Pos,
    inserted: str,
    result: GenerationResult,
    usage: Usage,
    info: ModelInfo,
    settings: Settings,
    prompt_format: str,
    syntax_ok: bool | None,
    reason: str,
    context: dict[str, Any] | None = None,
    encoding: str = "utf-16",
    end: Pos | None = None,
    calibration: CalibrationMap | None | Absent = ABSENT,
    min_confidence: float | None = None,
    whole_file: int | None = None,
    cache: str | None = None,
    cached_from: str | None = None,
    active_ms: float | None = None,
    produced_by: ProducedBy | None = None,
    attempts: int | None = None,
    gate: str | None = None,
    checks: list[CheckRun] | None = None,
    tests: TestGuard | None = None,
    agreement: Agreement | None = None,
    cuts: list[dict[str, Any]] | None = None,
) -> Report:
    """``inserted`` is the text placed at ``start`` (``end``: where the report's range
    ends when that is not where ``inserted`` does). Post-processing (quotes, wrapping)
    may have reshaped the model's text, so each low-confidence span is located in it by
    its own text; a span that did not survive post-processing has no range.

    ``calibration``: the model's calibration map (or None: it has none), when it was
    looked up; ``min_confidence``: hide the suggestion below this (completions);
    ``whole_file``: the tokenizer's count of the whole document, for the saving;
    ``active_ms``: the active use the request accounts for (``Session.active_ms``; default
    the model time), which the hardware is charged for.

    ``produced_by``: for a text served again without a model call, what the call that
    made it cost (this report's own figures stay those of this request: 0).

    Actions: ``attempts`` (model calls that made the edit, extra samples aside),
    ``gate`` that refused it, the ``checks`` and ``tests`` gates' findings, and the
    ``agreement`` of extra samples."""
    conf = score_tokens(result.pieces, result.probs, settings.low_confidence, result.first_margin)
    active = usage.total_ms if active_ms is None else active_ms
    cost = compute_cost(settings.pricing, usage.total_ms, usage.prompt, usage.completion, active)
    if info.backend != "embedded":  # a remote server is priced with its own settings
        cost = compute_remote_cost(
            settings.remote_pricing,
            settings.pricing,
            usage.total_ms,
            usage.prompt,
            usage.completion,
            active,
        )
    low_spans = []
    search_from = 0
    for span in conf.spans:
        found = inserted.find(span.text, search_from)
        if found < 0 or not span.text:
            continue
        search_from = found + len(span.text)
        span_start = end_after_insert(start, inserted[:found], encoding)
        span_end = end_after_insert(start, inserted[:search_from], encoding)
        low_spans.append(LowSpan(span_start, span_end, span.min_prob, span.text))
    confidence = Confidence(
        score=conf.score,
        mean_logprob=conf.mean_logprob,
        min_prob=conf.min_prob,
        first_margin=conf.first_margin,
        low_spans=low_spans,
        threshold=conf.threshold,
        method=SCORE_FORMULA,
        calibrated=False,
    )
    if not isinstance(calibration, Absent):
        confidence = calibrated(confidence, calibration)
    if agreement is not None:
        confidence = replace(confidence, agreement=agreement)
    hidden: bool | Absent = ABSENT
    if min_confidence is not None:
        score = confidence.score
        hidden = bool(min_confidence > 0 and (score is None or score < min_confidence))
    regenerated = usage.calls > 1
    tokens = Tokens(
        usage.prompt,
        usage.completion,
        usage.cached,
        usage.source,
        regenerated=usage.regenerated_tokens if regenerated else ABSENT,
    )
    money = Money(
        cost.energy_wh,
        cost.local,
        cost.cloud_equivalent,
        cost.currency,
        hardware=cost.hardware,
        total=cost.total,
    )
    report = Report(
        id=new_id(),
        kind=kind,
        action=action,
        uri=uri,
        range=Span(start, end or end_after_insert(start, inserted, encoding)),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        model=ModelFacts(info.name, info.sha256, info.path, info.backend),
        prompt_format=prompt_format,
        seed=settings.seed,
        sampler=Sampler(
            settings.temperature, "greedy" if settings.temperature <= 0 else "softmax-sample"
        ),
        tokens=tokens,
        time_ms=Times(
            round(usage.total_ms, 3),
            round(usage.prompt_ms, 3),
            round(usage.generation_ms, 3),
            round(usage.queue_ms, 3),
            usage.time_source,
            active=round(max(active, 0.0), 3),
            regenerated=round(usage.regenerated_ms, 3) if regenerated else ABSENT,
        ),
        cost=money,
        confidence=confidence,
        verified=Verified(
            syntax_ok,
            reason,
            usage.calls if attempts is None else attempts,
            ABSENT if gate is None else gate,
            ABSENT if checks is None else checks,
            ABSENT if tests is None else tests,
        ),
        stop_reason=result.stop_reason,
        context=context or {},
        hidden=hidden,
        cache=ABSENT if cache is None else cache,
        cached_from=ABSENT if cached_from is None else cached_from,
        cuts=ABSENT if cuts is None else cuts,
        produced_by=ABSENT if produced_by is None else produced_by,
        reproduce=reproduce_facts(result, settings),
    )
    if whole_file is None:
        return report
    return with_whole_file(report, whole_file, usage, settings)


def with_whole_file(report: Report, whole_file: int, usage: Usage, settings: Settings) -> Report:
    """The report with the tokenizer's count of the whole file, and what sending it with
    each call would have cost (the saving of sending only the prompt)."""
    saved = whole_file * (usage.calls or 1) - usage.prompt
    return replace(
        report,
        tokens=replace(report.tokens, whole_file=whole_file),
        cost=replace(
            report.cost,
            context_saving=saved * settings.pricing.cloud_input_per_million / 1_000_000.0,
        ),
    )


def reproduce_facts(result: GenerationResult, settings: Settings) -> Reproduce | Absent:
    """What determines the text, from the host's facts of the model call (none for a
    result that came from the cache: ``cached_from`` names the call)."""
    sent = result.sent
    if sent is None:
        return ABSENT
    engine = sent.engine
    reproducible, note = sent.reproducible()
    return Reproduce(
        prompt_sha256=sent.prompt_sha256,
        output_sha256=sent.output_sha256,
        prompt_kept=settings.keep_prompts,
        max_tokens=sent.max_tokens,
        stop=str(sent.stop["rule"]) if sent.stop else "none",
        backend=engine.backend,
        backend_version=engine.version,
        threads=list(engine.threads) if engine.threads is not None else None,
        cpu_features=engine.cpu_features,
        reproducible=reproducible,
        note=note,
    )


def make_lost_report(
    *,
    kind: str,
    action: str,
    uri: str,
    start: Pos,
    usage: Usage,
    lost_ms: float,
    lost: Lost,
    info: ModelInfo,
    settings: Settings,
    prompt_format: str,
    context: dict[str, Any] | None = None,
) -> Report:
    """The report of a request the model process lost (see :class:`Lost`): no text, no
    confidence. What was measured is kept: the time until the loss (``usage``: earlier
    calls of the request that finished, ``lost_ms``: the call that was lost), and the
    energy and local cost that follow from that time as for every report. What was not
    is null: the tokens evaluated and generated, how the time split between prompt and
    generation, and so the cloud-equivalent price."""
    spent = replace(usage, total_ms=usage.total_ms + max(lost_ms, 0.0), calls=usage.calls + 1)
    nothing = GenerationResult("", [], [], None, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, "lost")
    report = make_report(
        kind=kind,
        action=action,
        uri=uri,
        start=start,
        inserted="",
        result=nothing,
        usage=spent,
        info=info,
        settings=settings,
        prompt_format=prompt_format,
        syntax_ok=None,
        reason=f"lost: {lost.reason}",
        context=context,
    )
    return replace(
        report,
        tokens=Tokens(None, None, None, "measured"),
        time_ms=replace(report.time_ms, prompt=None, generation=None, source="measured"),
        cost=replace(report.cost, cloud_equivalent=None),
        lost=lost,
    )


def calibrated(confidence: Confidence, cal: CalibrationMap | None) -> Confidence:
    """The confidence with the calibrated score (the share of such suggestions that were
    right), keeping the raw one; unchanged but for ``raw_score`` without a map."""
    raw = confidence.score
    if cal is None or raw is None:
        return replace(confidence, raw_score=raw, calibrated=False)
    return replace(
        confidence,
        score=round(cal.apply(float(raw)), 6),
        calibrated=True,
        raw_score=raw,
        calibration=CalibrationFacts(cal.method, cal.samples, cal.right, cal.created, cal.origin),
    )


def summary(report: dict[str, Any], line_shift: int = 0) -> str:
    """One line a person reads, what they look for first: how sure (in plain words),
    then what it cost, then the weakest line (``line_shift``: lines added above the
    report's text since it was made). The jargon (first-token margin, lowest token
    probability) stays in the report itself (the editors' hovers)."""
    conf = report["confidence"]
    lost = report.get("lost")
    if lost:  # no answer: only the time it took until then
        return f"no answer, {lost['reason']}, after {report['time_ms']['total'] / 1000:.2f} s"
    parts = [_sureness(conf)]
    agreement = conf.get("agreement")
    if agreement:
        parts.append(
            f"{agreement['agreeing']} of {agreement['samples'] - 1} other samples agree"
            + (" (unsure)" if agreement["unsure"] else "")
        )
    verified = report["verified"]
    if verified["syntax_ok"] is False or verified.get("gate") in ("tests", "checks"):
        parts.append(f"NOT verified: {verified['reason']}")
    parts.append(_cost(report))
    cold = (report.get("context") or {}).get("cold")
    if cold:  # the prompt was cut to answer in time: less context than usual
        parts.append(f"short context: {cold['full_tokens']}-token prompt not cached yet")
    several_lines = report["range"]["end"]["line"] > report["range"]["start"]["line"]
    if conf["score"] is not None and conf["low_spans"] and several_lines:
        weakest = min(conf["low_spans"], key=lambda s: s["min_prob"])
        parts.append(f"least sure on line {weakest['start']['line'] + 1 + line_shift}")
    return " · ".join(parts)


def _sureness(conf: dict[str, Any]) -> str:
    """ "likely right: 27 % (calibrated on your code)": a calibrated score is the measured
    share of such suggestions that were right; an uncalibrated one is only the model's."""
    score = conf["score"]
    if score is None:
        return "confidence unknown"
    percent = "<1 %" if 0 < score < 0.005 else f"{round(score * 100)} %"
    if conf.get("calibrated"):
        origin = (conf.get("calibration") or {}).get("source")
        where = "sample code" if origin == "bundled" else "your code"
        return f"likely right: {percent} (calibrated on {where})"
    return f"model's confidence: {percent} (not calibrated)"


def _cost(report: dict[str, Any]) -> str:
    """What the text cost: this request's model call, or, for a text served again
    without one, the call that made it."""
    served = {"hit": "served again from the cache", "type-through": "typed through"}.get(
        report.get("cache") or ""
    )
    made = report.get("produced_by")
    if served and made:
        return f"{served}, no model call; made by a call of {_call(made)}"
    if served:
        return f"{served}, no model call"
    return _call(report)


def _call(call: dict[str, Any]) -> str:
    tokens, cost = call["tokens"], call["cost"]
    reused = f" ({tokens['cached']} reused)" if tokens["cached"] else ""
    return (
        f"{tokens['prompt']} prompt + {tokens['completion']} generated tokens{reused}, "
        f"{call['time_ms']['total'] / 1000:.2f} s, {cost['energy_wh']:.4f} Wh, "
        f"≈ {_money(cost['cloud_equivalent'], cost['currency'])} at cloud prices"
    )


def _money(value: float, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{value:.4f}" if symbol else f"{value:.4f} {currency}"
