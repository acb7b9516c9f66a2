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
    CalibrationFacts,
    Confidence,
    LowSpan,
    ModelFacts,
    Money,
    Report,
    Sampler,
    Span,
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

    def add(self, result: GenerationResult) -> None:
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
    cuts: list[dict[str, Any]] | None = None,
) -> Report:
    """``inserted`` is the text placed at ``start`` (``end``: where the report's range
    ends when that is not where ``inserted`` does). Post-processing (quotes, wrapping)
    may have reshaped the model's text, so each low-confidence span is located in it by
    its own text; a span that did not survive post-processing has no range.

    ``calibration``: the model's calibration map (or None: it has none), when it was
    looked up; ``min_confidence``: hide the suggestion below this (completions);
    ``whole_file``: the tokenizer's count of the whole document, for the saving."""
    conf = score_tokens(result.pieces, result.probs, settings.low_confidence, result.first_margin)
    cost = compute_cost(settings.pricing, usage.total_ms, usage.prompt, usage.completion)
    if info.backend != "embedded":  # a remote server is priced with its own settings
        cost = compute_remote_cost(
            settings.remote_pricing,
            settings.pricing,
            usage.total_ms,
            usage.prompt,
            usage.completion,
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
    hidden: bool | Absent = ABSENT
    if min_confidence is not None:
        score = confidence.score
        hidden = bool(min_confidence > 0 and (score is None or score < min_confidence))
    tokens = Tokens(usage.prompt, usage.completion, usage.cached, usage.source)
    money = Money(cost.energy_wh, cost.local, cost.cloud_equivalent, cost.currency)
    if whole_file is not None:  # what sending the whole file with each call would cost
        saved = whole_file * (usage.calls or 1) - usage.prompt
        tokens = replace(tokens, whole_file=whole_file)
        money = replace(
            money, context_saving=saved * settings.pricing.cloud_input_per_million / 1_000_000.0
        )
    return Report(
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
        ),
        cost=money,
        confidence=confidence,
        verified=Verified(syntax_ok, reason, usage.calls),
        stop_reason=result.stop_reason,
        context=context or {},
        hidden=hidden,
        cache=ABSENT if cache is None else cache,
        cached_from=ABSENT if cached_from is None else cached_from,
        cuts=ABSENT if cuts is None else cuts,
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
    """One line a person reads: tokens, time, energy, money, confidence, weakest line
    (``line_shift``: lines added above the report's text since it was made)."""
    tokens = report["tokens"]
    cost = report["cost"]
    conf = report["confidence"]
    cache = report.get("cache")
    served = {"hit": "from the result cache", "type-through": "typed through"}.get(cache or "")
    parts = [
        f"{served}, no model call"
        if served
        else f"{tokens['prompt']} prompt + {tokens['completion']} generated tokens"
        + (f" ({tokens['cached']} reused)" if tokens["cached"] else ""),
        f"{report['time_ms']['total'] / 1000:.2f} s",
        f"{cost['energy_wh']:.4f} Wh",
        f"≈ {_money(cost['cloud_equivalent'], cost['currency'])} at cloud prices",
    ]
    if conf["score"] is None:
        parts.append("confidence unknown")
    else:
        text = f"confidence {conf['score']:.2f}"
        if conf.get("calibrated"):  # the share of such suggestions that were right
            text += f" (calibrated on {conf['calibration']['samples']} samples)"
        if conf["low_spans"]:
            weakest = min(conf["low_spans"], key=lambda s: s["min_prob"])
            text += f" — lowest on line {weakest['start']['line'] + 1 + line_shift}"
        parts.append(text)
    if report["verified"]["syntax_ok"] is False:
        parts.append(f"NOT verified: {report['verified']['reason']}")
    return "edgewise: " + ", ".join(parts)


def _money(value: float, currency: str) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{value:.4f}" if symbol else f"{value:.4f} {currency}"
