"""The frozen report: built once, serialised to the JSON the schema describes."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jsonschema
import pytest

from edgewise.calibration.store import CalibrationMap
from edgewise.config import Settings
from edgewise.context.positions import Pos
from edgewise.model.backend import GenerationResult, ModelInfo
from edgewise.report.builder import Usage, build_report, make_lost_report, make_report, summary
from edgewise.report.confidence import SCORE_FORMULA
from edgewise.report.ledger import LOG_NAME, ReportLog, totals
from edgewise.report.record import Lost
from edgewise.schemas import load_schema

INFO = ModelInfo("tiny", "/models/tiny.gguf", "ab" * 32, "embedded", 2048, None, None, 256)
RESULT = GenerationResult(
    text="x = 1\ny = 2",
    pieces=["x", " =", " 1", "\n", "y", " =", " 2"],
    probs=[0.9, 0.2, 0.95, 0.9, 0.1, 0.9, 0.9],
    first_margin=0.4,
    prompt_tokens=40,
    cached_tokens=8,
    completion_tokens=7,
    prompt_ms=12.5,
    generation_ms=30.25,
    total_ms=42.75,
    queue_ms=0.5,
    stop_reason="eos",
)
CAL = CalibrationMap(
    model_sha256="ab" * 32,
    model_name="tiny",
    method="platt",
    params={"a": 2.0, "b": -1.0},
    samples=100,
    right=60,
    raw_score=SCORE_FORMULA,
    created="2025-01-01T00:00:00",
)


def facts(**extra: Any) -> dict[str, Any]:
    usage = Usage()
    usage.add(RESULT)
    return {
        "kind": "completion",
        "action": "inline",
        "uri": "file:///w/a.py",
        "start": Pos(3, 4),
        "inserted": RESULT.text,
        "result": RESULT,
        "usage": usage,
        "info": INFO,
        "settings": Settings(),
        "prompt_format": "fim",
        "syntax_ok": None,
        "reason": "completions are not syntax-checked until accepted",
        "context": {"pieces": [], "assembly_ms": 1.0, "notes": [], "heal_prefix": ""},
        **extra,
    }


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"calibration": None, "min_confidence": 0.0, "cache": "miss"},
        {
            "calibration": CAL,
            "min_confidence": 0.99,
            "whole_file": 500,
            "cache": "hit",
            "cached_from": "0123456789abcdef",
        },
        {"kind": "action", "action": "docstring", "syntax_ok": True, "end": Pos(9, 0)},
    ],
)
def test_serialised_reports_validate_against_the_schema(extra: dict[str, object]) -> None:
    data = make_report(**facts(**extra)).to_dict()
    jsonschema.validate(data, load_schema("report"))
    assert json.loads(json.dumps(data)) == data  # plain JSON: nothing left unserialised


def test_a_completion_report_carries_every_fact_in_the_json() -> None:
    data = build_report(
        **facts(
            calibration=CAL,
            min_confidence=0.99,
            whole_file=500,
            cache="hit",
            cached_from="0123456789abcdef",
        )
    )
    assert list(data)[-3:] == ["hidden", "cache", "cached_from"]
    assert data["hidden"] is True and data["cache"] == "hit"
    assert data["range"] == {
        "start": {"line": 3, "character": 4},
        "end": {"line": 4, "character": 5},
    }
    assert data["tokens"] == {
        "prompt": 40,
        "completion": 7,
        "cached": 8,
        "source": "measured",
        "whole_file": 500,
    }
    assert data["cost"]["context_saving"] == pytest.approx(
        (500 - 40) * Settings().pricing.cloud_input_per_million / 1e6
    )
    conf = data["confidence"]
    assert conf["calibrated"] is True and conf["raw_score"] is not None
    assert conf["score"] == round(CAL.apply(conf["raw_score"]), 6)
    assert conf["calibration"]["samples"] == 100 and conf["calibration"]["source"] == "user"
    assert [s["text"] for s in conf["low_spans"]]  # located in the inserted text
    assert data["verified"] == {
        "syntax_ok": None,
        "reason": "completions are not syntax-checked until accepted",
        "attempts": 1,
    }


def test_optional_keys_are_left_out_until_known() -> None:
    data = build_report(**facts())
    for key in ("hidden", "cache", "cached_from"):
        assert key not in data
    assert "whole_file" not in data["tokens"] and "context_saving" not in data["cost"]
    assert "raw_score" not in data["confidence"]  # calibration was never looked up
    uncalibrated = build_report(**facts(calibration=None))["confidence"]
    assert uncalibrated["calibrated"] is False and "calibration" not in uncalibrated
    assert uncalibrated["raw_score"] == uncalibrated["score"]


def test_a_report_cannot_be_changed_once_built() -> None:
    report = make_report(**facts())
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.hidden = True  # type: ignore[misc]  # the point: frozen


def lost_report(**extra: Any) -> dict[str, Any]:
    usage = Usage()
    usage.add(RESULT)  # an action's first attempt finished; the second was lost
    return make_lost_report(
        kind="action",
        action="docstring",
        uri="file:///w/a.py",
        start=Pos(3, 4),
        usage=usage,
        lost_ms=1500.0,
        lost=Lost("the model process ended (SIGSEGV: a memory fault)", "SIGSEGV", False),
        info=INFO,
        settings=Settings(),
        prompt_format="chat",
        **extra,
    ).to_dict()


def test_a_lost_request_reports_what_was_measured_and_nulls_the_rest() -> None:
    data = lost_report()
    jsonschema.validate(data, load_schema("report"))
    assert data["lost"] == {
        "reason": "the model process ended (SIGSEGV: a memory fault)",
        "signal": "SIGSEGV",
        "hung": False,
    }
    assert data["tokens"] == {
        "prompt": None,
        "completion": None,
        "cached": None,
        "source": "measured",
    }
    assert data["time_ms"]["total"] == pytest.approx(RESULT.total_ms + 1500.0)
    assert data["time_ms"]["prompt"] is None and data["time_ms"]["generation"] is None
    watts = Settings().pricing.device_watts
    assert data["cost"]["energy_wh"] == pytest.approx(watts * (RESULT.total_ms + 1500) / 3.6e6)
    assert data["cost"]["cloud_equivalent"] is None
    assert data["verified"] == {
        "syntax_ok": None,
        "reason": "lost: the model process ended (SIGSEGV: a memory fault)",
        "attempts": 2,
    }
    assert data["stop_reason"] == "lost" and data["confidence"]["score"] is None
    assert summary(data).startswith("no answer, the model process ended (SIGSEGV")


def test_older_ledgers_and_lost_reports_read_and_total_together(tmp_path) -> None:
    """A ledger written before reports could be lost (every figure a number) still
    reads line by line; a lost report adds its time and energy, and no tokens."""
    older = build_report(**facts())
    older.pop("cached_from", None)
    log = ReportLog(tmp_path / LOG_NAME)
    (tmp_path / LOG_NAME).write_text(json.dumps(older) + "\n")
    assert log.append(lost_report())
    read = log.read()
    assert read.skipped == 0 and len(read.reports) == 2
    day = totals(read.reports)
    assert day["requests"] == 2 and day["lost"] == 1
    assert day["tokens_prompt"] == RESULT.prompt_tokens
    assert day["cloud_equivalent"] == pytest.approx(older["cost"]["cloud_equivalent"])
    assert day["model_seconds"] == pytest.approx(
        (older["time_ms"]["total"] + RESULT.total_ms + 1500.0) / 1000
    )
