"""The report of one completion or action as a frozen value, built once when every fact
is known, and serialised (cattrs) to the JSON of schemas/report.schema.json.

A key the schema leaves optional is :data:`ABSENT` until known; it is then left out of
the JSON (``None`` is a value: ``"raw_score": null``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cattrs

from edgewise.context.positions import Pos


class Absent:
    """The value of a key the JSON leaves out."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = Absent()


@dataclass(frozen=True)
class Span:
    start: Pos
    end: Pos


@dataclass(frozen=True)
class ModelFacts:
    name: str
    sha256: str
    path: str
    backend: str


@dataclass(frozen=True)
class Sampler:
    temperature: float
    strategy: str


@dataclass(frozen=True)
class Tokens:
    prompt: int
    completion: int
    cached: int
    source: str
    whole_file: int | Absent = ABSENT


@dataclass(frozen=True)
class Times:
    total: float
    prompt: float
    generation: float
    queue: float
    source: str


@dataclass(frozen=True)
class Money:
    energy_wh: float
    local: float
    cloud_equivalent: float
    currency: str
    context_saving: float | Absent = ABSENT


@dataclass(frozen=True)
class LowSpan:
    start: Pos
    end: Pos
    min_prob: float
    text: str


@dataclass(frozen=True)
class CalibrationFacts:
    method: str
    samples: int
    right: int
    created: str
    source: str


@dataclass(frozen=True)
class Confidence:
    score: float | None
    mean_logprob: float | None
    min_prob: float | None
    first_margin: float | None
    low_spans: list[LowSpan]
    threshold: float
    method: str
    calibrated: bool
    raw_score: float | None | Absent = ABSENT  # once calibration was looked up
    calibration: CalibrationFacts | Absent = ABSENT


@dataclass(frozen=True)
class Verified:
    syntax_ok: bool | None
    reason: str
    attempts: int


@dataclass(frozen=True)
class Report:
    id: str
    kind: str
    action: str
    uri: str
    range: Span
    created: str
    model: ModelFacts
    prompt_format: str
    seed: int
    sampler: Sampler
    tokens: Tokens
    time_ms: Times
    cost: Money
    confidence: Confidence
    verified: Verified
    stop_reason: str
    context: dict[str, Any]
    hidden: bool | Absent = ABSENT
    cache: str | Absent = ABSENT
    cached_from: str | Absent = ABSENT
    cuts: list[dict[str, Any]] | Absent = ABSENT  # completions: see pipeline/postprocess.Cut

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON object (schemas/report.schema.json), keys in schema order."""
        data: dict[str, Any] = _without_absent(_converter.unstructure(self))
        return data


_converter = cattrs.Converter()
_converter.register_unstructure_hook(Absent, lambda value: value)


def _without_absent(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_absent(v) for k, v in value.items() if v is not ABSENT}
    if isinstance(value, list):
        return [_without_absent(v) for v in value]
    return value
