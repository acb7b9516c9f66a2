"""Calibration maths with hand-checked numbers, the map store, and position sampling."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pytest

from edgewise.calibration.fit import (
    apply_isotonic,
    apply_platt,
    auroc,
    ece,
    fit_isotonic,
    fit_platt,
    reliability,
)
from edgewise.calibration.sampling import (
    first_word,
    first_word_right,
    is_right,
    sample_positions,
)
from edgewise.calibration.store import (
    CalibrationMap,
    CalibrationStore,
    bundled_map,
    calibrate_confidence,
    map_path,
    save_map,
)
from edgewise.report.confidence import SCORE_FORMULA


def test_auroc_by_hand():
    # pairs (right, wrong): (0.35>0.1 yes, 0.35>0.4 no, 0.8>0.1 yes, 0.8>0.4 yes) = 3/4
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert auroc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5  # a tie counts half
    assert np.isnan(auroc(np.array([0.2, 0.3]), np.array([1, 1])))


def test_ece_and_reliability_by_hand():
    probs = np.array([0.1, 0.1, 0.9, 0.9])
    right = np.array([0, 1, 1, 1])
    # bin 0.1: |0.1 - 0.5| x 2; bin 0.9: |0.9 - 1.0| x 2; over 4 samples
    assert ece(probs, right) == pytest.approx((0.4 * 2 + 0.1 * 2) / 4)
    table = reliability(probs, right)
    assert [b.count for b in table] == [0, 2, 0, 0, 0, 0, 0, 0, 0, 2]


def test_isotonic_pools_violators():
    knots, values = fit_isotonic(np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 0, 1, 1]))
    assert values == [0.5, 1.0]  # (1, 0) pooled, then (1, 1)
    mapped = apply_isotonic((knots, values), np.linspace(0, 1, 11))
    assert np.all(np.diff(mapped) >= 0)


def test_platt_recovers_a_known_map():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.01, 0.99, 20000)
    truth = apply_platt((2.0, -1.5), scores)
    labels = rng.uniform(size=scores.size) < truth
    a, b = fit_platt(scores, labels)
    assert a == pytest.approx(2.0, abs=0.1) and b == pytest.approx(-1.5, abs=0.1)
    assert ece(apply_platt((a, b), scores), labels) < 0.02


def test_platt_with_no_right_answers_stays_low_and_finite():
    a, b = fit_platt(np.array([0.2, 0.5, 0.9]), np.array([0, 0, 0]))
    out = apply_platt((a, b), np.array([0.2, 0.9]))
    assert np.all(np.isfinite(out)) and np.all(out < 0.3)


def cal_map(sha: str = "a" * 64, b: float = -1.0, samples: int = 50) -> CalibrationMap:
    return CalibrationMap(
        model_sha256=sha,
        model_name="m",
        method="platt",
        params={"a": 1.0, "b": b},
        samples=samples,
        right=5,
        raw_score=SCORE_FORMULA,
    )


def test_store_reads_the_users_map_and_rereads_it_when_rewritten(tmp_path):
    store = CalibrationStore(tmp_path)
    assert store.get("a" * 64) is None
    save_map(cal_map(samples=50), tmp_path)
    found = store.get("a" * 64)
    assert found is not None and found.samples == 50
    time.sleep(0.01)
    save_map(cal_map(samples=80), tmp_path)
    path = map_path("a" * 64, tmp_path)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    found = store.get("a" * 64)
    assert found is not None and found.samples == 80


def test_a_broken_map_is_ignored_with_a_reason(tmp_path):
    path = map_path("b" * 64, tmp_path)
    path.write_text('{"model_sha256": "bbb", "method": "magic"}')
    store = CalibrationStore(tmp_path)
    assert store.get("b" * 64) is None
    assert store.problems and "ignoring" in store.problems[0]


def test_a_map_of_another_score_formula_is_ignored(tmp_path):
    stale = CalibrationMap(**{**cal_map("c" * 64).__dict__, "raw_score": "something else"})
    save_map(stale, tmp_path)
    store = CalibrationStore(tmp_path)
    assert store.get("c" * 64) is None
    assert "calibrate" in store.problems[0]


def test_calibrated_confidence_keeps_the_raw_score():
    conf: dict[str, Any] = {"score": 0.5}
    calibrate_confidence(conf, cal_map(b=-1.0))
    assert conf["raw_score"] == 0.5
    assert conf["score"] == pytest.approx(1 / (1 + np.e), abs=1e-6)  # sigmoid(logit(0.5) - 1)
    assert conf["calibrated"] is True
    assert conf["calibration"]["samples"] == 50 and conf["calibration"]["source"] == "user"
    raw = {"score": 0.5}
    calibrate_confidence(raw, None)
    assert raw == {"score": 0.5, "raw_score": 0.5, "calibrated": False}


def test_no_bundled_map_for_an_unknown_model():
    assert bundled_map("0" * 64) is None


def test_sampled_positions_cut_lines_inside_their_code(tmp_path):
    (tmp_path / "a.py").write_text("import os\n\ndef f(x):\n    return os.path.join(x, 'y')\n")
    (tmp_path / "b.ts").write_text("export const answer: number = 42;\n")
    vendored = tmp_path / "node_modules" / "dep"
    vendored.mkdir(parents=True)
    (vendored / "index.js").write_text("module.exports = function () { return 1; };\n")
    positions = sample_positions([tmp_path], 10, seed=3)
    assert len(positions) == 4  # every eligible line once; node_modules skipped
    assert positions == sample_positions([tmp_path], 10, seed=3)  # reproducible
    for pos in positions:
        line = pos.source.splitlines()[pos.line]
        indent = len(line) - len(line.lstrip())
        assert indent < pos.column < len(line)
        assert pos.typed + pos.deleted == line.rstrip()
        assert pos.document().splitlines()[pos.line] == pos.typed
        assert pos.document().count("\n") == pos.source.count("\n")


def test_right_means_the_whole_first_line():
    assert is_right("append(name)  \nmore", "append(name)")
    assert not is_right("append(name", "append(name)")
    assert first_word(" += step") == " +"
    assert first_word("append(name)") == "append"
    assert first_word_right("append(x)", "append(name)")
    assert not first_word_right("+= 1", " += step")
