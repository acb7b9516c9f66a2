"""Builds the report object (schemas/report.schema.json) of one completion or action."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from edgewise.config import Settings
from edgewise.context.positions import Pos, end_after_insert
from edgewise.model.backend import GenerationResult, ModelInfo
from edgewise.report.confidence import SCORE_FORMULA, score_tokens
from edgewise.report.cost import compute_cost, compute_remote_cost


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


def build_report(
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
) -> dict[str, Any]:
    """``inserted`` is the text placed at ``start``. Post-processing (quotes, wrapping)
    may have reshaped the model's text, so each low-confidence span is located in it by
    its own text; a span that did not survive post-processing has no range."""
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
        low_spans.append(
            {
                "start": span_start.to_dict(),
                "end": span_end.to_dict(),
                "min_prob": span.min_prob,
                "text": span.text,
            }
        )
    end = end_after_insert(start, inserted, encoding)
    return {
        "id": new_id(),
        "kind": kind,
        "action": action,
        "uri": uri,
        "range": {"start": start.to_dict(), "end": end.to_dict()},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "model": {
            "name": info.name,
            "sha256": info.sha256,
            "path": info.path,
            "backend": info.backend,
        },
        "prompt_format": prompt_format,
        "seed": settings.seed,
        "sampler": {
            "temperature": settings.temperature,
            "strategy": "greedy" if settings.temperature <= 0 else "softmax-sample",
        },
        "tokens": {
            "prompt": usage.prompt,
            "completion": usage.completion,
            "cached": usage.cached,
            "source": usage.source,
        },
        "time_ms": {
            "total": round(usage.total_ms, 3),
            "prompt": round(usage.prompt_ms, 3),
            "generation": round(usage.generation_ms, 3),
            "queue": round(usage.queue_ms, 3),
            "source": usage.time_source,
        },
        "cost": cost.to_dict(),
        "confidence": {
            "score": conf.score,
            "mean_logprob": conf.mean_logprob,
            "min_prob": conf.min_prob,
            "first_margin": conf.first_margin,
            "low_spans": low_spans,
            "threshold": conf.threshold,
            "method": SCORE_FORMULA,
            "calibrated": False,
        },
        "verified": {"syntax_ok": syntax_ok, "reason": reason, "attempts": usage.calls},
        "stop_reason": result.stop_reason,
        "context": context or {},
    }


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
