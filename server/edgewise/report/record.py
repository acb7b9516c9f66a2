"""The report of one completion or action as a frozen value, built once when every fact
is known, and serialised to the JSON of schemas/report.schema.json.

A key the schema leaves optional is :data:`ABSENT` until known; it is then left out of
the JSON (``None`` is a value: ``"raw_score": null``). A figure that was not measured is
``None`` (``null``): the tokens of a request the model process lost, never a guess."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any, Final

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
    prompt: int | None  # None: not known (the model process was lost mid-request)
    completion: int | None
    cached: int | None
    source: str
    whole_file: int | Absent = ABSENT
    regenerated: int | Absent = ABSENT


@dataclass(frozen=True)
class Times:
    total: float
    prompt: float | None  # None: not known (lost mid-request; ``total`` is measured)
    generation: float | None
    queue: float
    source: str
    active: float | Absent = ABSENT
    regenerated: float | Absent = ABSENT


@dataclass(frozen=True)
class Money:
    energy_wh: float
    local: float
    cloud_equivalent: float | None  # None: no tokens to price (lost mid-request)
    currency: str
    context_saving: float | Absent = ABSENT
    hardware: float | Absent = ABSENT
    total: float | Absent = ABSENT


@dataclass(frozen=True)
class Lost:
    """The model process ended while serving the request (crashed, killed, or stopped
    after it hung): no answer was given."""

    reason: str
    signal: str | None
    hung: bool


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
class Agreement:
    """How many extra samples of an action agreed with the text offered."""

    samples: int  # every sample drawn, the offered one included
    agreeing: int  # extra samples that agree with the offered one
    score: float  # agreeing / extra samples
    unsure: bool
    method: str
    temperature: float
    seeds: list[int]


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
    agreement: Agreement | Absent = ABSENT


@dataclass(frozen=True)
class Problem:
    """One complaint of a checker: 1-based line, the rule's code, its message."""

    line: int
    rule: str
    message: str

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the problem across an edit (lines move; rule and text do not)."""
        return (self.rule, self.message)


@dataclass(frozen=True)
class CheckRun:
    """One of the project's checkers on one edit. ``status``: ran | not-installed |
    not-configured | timed-out | failed; the counts only when it ran on both texts."""

    tool: str
    status: str
    version: str = ""
    ms: float = 0.0
    problems_before: int | None = None
    problems_after: int | None = None
    new: list[Problem] = field(default_factory=list)
    detail: str = ""
    cached: bool = False


@dataclass(frozen=True)
class TestGuard:
    """What the edit does to the project's checks (see actions/test_guard.py)."""

    ok: bool
    allowed: bool
    findings: list[str]


@dataclass(frozen=True)
class Verified:
    syntax_ok: bool | None
    reason: str
    attempts: int
    gate: str | Absent = ABSENT  # the gate that refused the edit: syntax | tests | checks
    checks: list[CheckRun] | Absent = ABSENT
    tests: TestGuard | Absent = ABSENT


@dataclass(frozen=True)
class Reproduce:
    """What determines the text besides the model file and sampler (see model/sent.py)."""

    prompt_sha256: str
    output_sha256: str
    prompt_kept: bool  # the prompt store keeps the prompt (keepPrompts): replayable
    max_tokens: int
    stop: str  # the stop rule's name ("none" without one)
    backend: str
    backend_version: str
    threads: list[int] | None
    cpu_features: str | None
    reproducible: bool
    note: str


@dataclass(frozen=True)
class ProducedBy:
    """What the model call that made a text served again (result cache, type-through)
    cost: that call's report id, tokens, times and cost."""

    report: str
    tokens: Tokens
    time_ms: Times
    cost: Money

    @classmethod
    def of(cls, report: dict[str, Any]) -> ProducedBy:
        """From the producing call's report JSON (its keys are these fields' names);
        the tokens the call cost (the file's whole count is not a cost, and may come
        after the call's answer)."""
        tokens = {k: v for k, v in report["tokens"].items() if k != "whole_file"}
        return cls(
            report["id"],
            Tokens(**tokens),
            Times(**report["time_ms"]),
            Money(**report["cost"]),
        )


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
    reproduce: Reproduce | Absent = ABSENT
    lost: Lost | Absent = ABSENT
    produced_by: ProducedBy | Absent = ABSENT
    cuts: list[dict[str, Any]] | Absent = ABSENT  # completions: see pipeline/postprocess.Cut

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON object (schemas/report.schema.json), keys in schema order.
        ``context`` is plain JSON already (the pipeline builds it so): copied as it is,
        not walked value by value (it was most of the time a report took to make)."""
        data: dict[str, Any] = _plain(replace(self, context={}))
        data["context"] = dict(self.context)
        return data


def _plain(value: Any) -> Any:
    """A record as JSON values: dataclasses as objects (fields in order, absent ones
    left out), lists and tuples and dicts value by value. Written out rather than with
    cattrs, which writes its converting functions on first use of each shape (10-15 ms
    in each of a server's first reports)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is not ABSENT:
                out[f.name] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not ABSENT}
    return value
