"""Cost and confidence maths, checked against numbers worked out by hand."""

import math

import pytest

from bench.formulas import FORMULAS
from edgewise.config import Pricing
from edgewise.report.confidence import SCORE_FORMULA, low_spans, score_tokens
from edgewise.report.cost import compute_cost


def test_energy_money_and_cloud_price_by_hand():
    pricing = Pricing(
        device_watts=36.0,
        price_per_kwh=0.25,
        cloud_input_per_million=3.0,
        cloud_output_per_million=15.0,
        currency="EUR",
    )
    # 36 W for 2 s = 72 J = 0.02 Wh; 0.02 Wh = 0.00002 kWh x 0.25 = 0.000005
    # cloud: 312 x 3 / 1e6 + 41 x 15 / 1e6 = 0.000936 + 0.000615 = 0.001551
    cost = compute_cost(pricing, model_ms=2000.0, prompt_tokens=312, completion_tokens=41)
    assert cost.energy_wh == pytest.approx(0.02)
    assert cost.local == pytest.approx(0.000005)
    assert cost.cloud_equivalent == pytest.approx(0.001551)
    assert cost.currency == "EUR"


def test_zero_watts_costs_nothing_locally_but_cloud_price_stays():
    cost = compute_cost(Pricing(device_watts=0.0), 5000.0, 1000, 0)
    assert cost.energy_wh == 0.0 and cost.local == 0.0
    assert cost.cloud_equivalent == pytest.approx(0.003)


def test_first_word_score_min_prob_and_margin_by_hand():
    # score = probability of the first word and the token that ends it: "def", " f"
    # (the space ends the word "def") = 0.9 x 0.5; mean log p still covers all three
    conf = score_tokens(["def", " f", "()"], [0.9, 0.5, 0.8], threshold=0.3, first_margin=0.6)
    assert conf.score == pytest.approx(0.45)
    assert conf.mean_logprob == pytest.approx((math.log(0.9) + math.log(0.5) + math.log(0.8)) / 3)
    assert conf.min_prob == 0.5
    assert conf.first_margin == 0.6
    assert conf.spans == []


def test_the_benchmark_measures_the_score_reports_carry():
    # bench/calibration.py picks among bench/formulas.py's candidates; the entry under the
    # production score's name must be the production score itself
    pieces, probs = ["self", ".", "items", "[", "0", "]"], [0.7, 0.6, 0.4, 0.9, 0.3, 0.8]
    reported = score_tokens(pieces, probs, threshold=0.3, first_margin=0.2).score
    assert reported == pytest.approx(0.7 * 0.6)  # "self" and the "." that ends it
    assert FORMULAS[SCORE_FORMULA](pieces, probs, 0.2) == reported


def test_low_spans_merge_neighbours_and_trim_whitespace():
    pieces = ["x", " =", " foo", "bar", "(", ")", "\n"]
    probs = [0.9, 0.8, 0.1, 0.2, 0.9, 0.05, 0.01]
    spans = low_spans(pieces, probs, threshold=0.3)
    assert [(s.text, s.min_prob) for s in spans] == [("foobar", 0.1), (")", 0.05)]
    text = "".join(pieces)
    assert text[spans[0].start : spans[0].end] == "foobar"
    assert text[spans[1].start : spans[1].end] == ")"


def test_no_tokens_means_unknown_confidence_not_zero():
    conf = score_tokens([], [], threshold=0.3)
    assert conf.score is None and conf.min_prob is None
