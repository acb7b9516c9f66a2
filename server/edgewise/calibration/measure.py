"""Runs the engine at sampled positions and records, for each, what it suggested, how
sure the model was (every candidate score ingredient) and whether it was right."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from edgewise.calibration.sampling import Position, first_line, first_word_right, is_right
from edgewise.context.positions import Pos
from edgewise.engine import Engine


@dataclass(frozen=True)
class Sample:
    path: str
    language: str
    line: int  # 0-based
    column: int
    mid_word: bool
    deleted: str
    suggestion: str  # first line of what the model suggested
    score: float | None  # raw score the report carries (geometric-mean probability)
    mean_logprob: float | None
    min_prob: float | None
    first_margin: float | None
    tokens: int  # tokens generated (including the one that ended the line)
    right: bool  # first line equals the deleted text (trailing space ignored)
    word_right: bool  # first word equals the deleted text's first word
    heal_prefix: str
    ms: float
    probs: list[float]  # probability of each token behind the suggestion
    pieces: list[str]  # and its text

    @property
    def suggested(self) -> bool:
        """The model had something to show (an empty suggestion is never shown)."""
        return bool(self.suggestion.strip()) and self.score is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def measure_one(engine: Engine, position: Position, *, heal: bool = True) -> Sample:
    """One single-line completion at ``position`` (columns are character offsets)."""
    engine.position_encoding = "utf-32"
    started = time.perf_counter()
    uri = position.path.resolve().as_uri()
    completion = await engine.complete(
        uri,
        position.document(),
        Pos(position.line, position.column),
        position.language,
        action="calibrate",
        single_line=True,
        heal=heal,
        trim=False,  # the model's own line: the score is calibrated on it
    )
    # closed: the next position in this file must not see this one as a recent edit
    # (whose diff would show the line it deletes), nor snippets of every file measured
    engine.close_document(uri)
    conf = completion.report["confidence"]
    suggestion = first_line(completion.text)
    return Sample(
        path=str(position.path),
        language=position.language,
        line=position.line,
        column=position.column,
        mid_word=position.mid_word,
        deleted=position.deleted,
        suggestion=suggestion,
        score=conf.get("raw_score", conf["score"]),
        mean_logprob=conf["mean_logprob"],
        min_prob=conf["min_prob"],
        first_margin=conf.get("first_margin"),
        tokens=completion.report["tokens"]["completion"],
        right=is_right(suggestion, position.deleted),
        word_right=first_word_right(suggestion, position.deleted),
        heal_prefix=completion.report["context"].get("heal_prefix", ""),
        ms=(time.perf_counter() - started) * 1000.0,
        probs=list(completion.result.probs) if completion.result else [],
        pieces=list(completion.result.pieces) if completion.result else [],
    )


async def measure(
    engine: Engine,
    positions: list[Position],
    *,
    heal: bool = True,
    on_sample: Callable[[int, Sample], None] | None = None,
    deadline: float | None = None,
) -> list[Sample]:
    """One single-line completion per position, in order; none is started after
    ``deadline`` (a ``time.monotonic()`` value): the samples measured by then."""
    samples: list[Sample] = []
    for index, position in enumerate(positions):
        if deadline is not None and time.monotonic() >= deadline:
            break
        sample = await measure_one(engine, position, heal=heal)
        samples.append(sample)
        if on_sample is not None:
            on_sample(index, sample)
    return samples
