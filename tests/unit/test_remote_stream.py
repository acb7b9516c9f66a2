"""Stream chunks of each server dialect read into one generation (shapes from the
servers' sources: llama.cpp tools/server/server-task.cpp, llama-cpp-python llama.py)."""

from __future__ import annotations

import math

import pytest

from edgewise.config import Pricing, RemotePricing, Settings, camel, settings_to_dict
from edgewise.model.remote_http import RemoteError, base_url, display_url, error_detail
from edgewise.model.remote_stream import StreamState
from edgewise.report.cost import compute_remote_cost
from edgewise.schemas import load_schema


def lp(token: str, logprob: float, *others: float) -> dict:
    top = [{"id": 1, "token": token, "logprob": logprob}]
    top += [{"id": 2 + i, "token": f"t{i}", "logprob": v} for i, v in enumerate(others)]
    return {
        "id": 1,
        "token": token,
        "bytes": list(token.encode()),
        "logprob": logprob,
        "top_logprobs": top,
    }


def test_llama_server_completion_stream_with_usage_and_timings():
    state = StreamState()
    for token, value in (("def", -0.1), (" f", -0.5)):
        state.feed(
            {
                "choices": [
                    {
                        "text": token,
                        "index": 0,
                        "logprobs": {"content": [lp(token, value, -3.0)]},
                        "finish_reason": None,
                    }
                ],
                "object": "text_completion",
            }
        )
    state.feed(
        {
            "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": "length"}],
            "usage": {
                "completion_tokens": 2,
                "prompt_tokens": 40,
                "total_tokens": 42,
                "prompt_tokens_details": {"cached_tokens": 31},
            },
            "timings": {
                "cache_n": 31,
                "prompt_n": 9,
                "prompt_ms": 12.5,
                "predicted_n": 2,
                "predicted_ms": 20.0,
            },
        }
    )
    assert state.text == "def f" and state.pieces == ["def", " f"]
    assert state.probs == pytest.approx([math.exp(-0.1), math.exp(-0.5)])
    assert state.first_margin == pytest.approx(math.exp(-0.1) - math.exp(-3.0))
    assert state.finish == "max_tokens" and state.has_logprobs
    assert state.usage is not None and state.timings is not None
    assert state.usage["prompt_tokens"] == 40 and state.timings["cache_n"] == 31


def test_a_reset_stream_state_forgets_the_first_attempt():
    """The retry without log-probabilities starts from nothing, in the same object."""
    state = StreamState()
    pieces = state.pieces
    state.feed({"choices": [{"text": "def", "logprobs": {"content": [lp("def", -0.1)]}}]})
    state.reset()
    fresh = StreamState()
    assert state.pieces == [] and state.probs == [] and state.text == ""
    assert state.events == 0 and not state.has_logprobs
    assert state.pieces is not pieces  # the first attempt's lists are not reused
    assert {**vars(state), "started": 0} == {**vars(fresh), "started": 0}


def test_llama_cpp_python_legacy_logprobs_and_chat_deltas():
    state = StreamState()
    state.feed(
        {
            "choices": [
                {
                    "text": "ain",
                    "logprobs": {
                        "tokens": ["ain"],
                        "text_offset": [57],
                        "token_logprobs": [-0.54],
                        "top_logprobs": [{"ain": -0.54, "x": -2.0}],
                    },
                    "finish_reason": None,
                }
            ]
        }
    )
    state.feed(
        {
            "choices": [
                {
                    "text": "",
                    "logprobs": {
                        "tokens": [""],
                        "text_offset": [60],
                        "token_logprobs": [-1.41],
                        "top_logprobs": [{"": -1.41}],
                    },
                    "finish_reason": None,
                }
            ]
        }
    )
    state.feed({"choices": [{"text": "", "logprobs": None, "finish_reason": "stop"}]})
    assert state.text == "ain" and state.tokens == 2 and state.finish == "eos"
    assert state.probs == pytest.approx([math.exp(-0.54), math.exp(-1.41)])

    chat = StreamState()
    chat.feed(
        {"choices": [{"delta": {"role": "assistant"}, "logprobs": None, "finish_reason": None}]}
    )
    chat.feed(
        {
            "choices": [
                {
                    "delta": {"content": " result"},
                    "logprobs": {
                        "content": [
                            {
                                "token": " result",
                                "logprob": -0.86,
                                "bytes": None,
                                "top_logprobs": [{"token": " result", "logprob": -0.86}],
                            }
                        ]
                    },
                    "finish_reason": None,
                }
            ]
        }
    )
    chat.feed({"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 1}})
    assert chat.text == " result" and chat.probs == pytest.approx([math.exp(-0.86)])
    assert chat.first_margin is None  # one alternative only: the margin is unknown


def test_llama_server_native_infill_chunks():
    state = StreamState()
    state.feed(
        {"content": "  x", "stop": False, "completion_probabilities": [lp("  x", -0.2, -1.0)]}
    )
    state.feed(
        {
            "content": "",
            "stop": True,
            "stop_type": "eos",
            "tokens_evaluated": 120,
            "tokens_cached": 100,
            "tokens_predicted": 1,
            "timings": {
                "prompt_n": 20,
                "prompt_ms": 5.0,
                "predicted_n": 1,
                "predicted_ms": 2.0,
                "cache_n": 100,
            },
        }
    )
    assert state.text == "  x" and state.finish == "eos"
    assert state.native == {"tokens_evaluated": 120, "tokens_cached": 100, "tokens_predicted": 1}


def test_text_without_logprobs_leaves_confidence_unknown_and_stops_truncate():
    state = StreamState()
    state.feed({"choices": [{"text": "abc\ndef", "finish_reason": None}]})
    assert not state.has_logprobs
    with_probs = StreamState()
    for token in ("ab", "c\n", "de"):
        with_probs.feed({"choices": [{"text": token, "logprobs": {"content": [lp(token, -0.1)]}}]})
    with_probs.truncate(3)
    assert with_probs.text == "abc" and with_probs.pieces == ["ab", "c"]
    assert len(with_probs.probs) == 2


def test_mid_stream_error_event_is_a_clear_error():
    with pytest.raises(RemoteError, match="mid-stream: slot unavailable"):
        StreamState().feed({"error": {"code": 503, "message": "slot unavailable"}})


def test_urls_lose_credentials_and_v1_and_errors_their_noise():
    assert base_url("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080"
    assert display_url("https://user:sk-secret@gpu:8443/v1") == "https://gpu:8443/v1"
    assert error_detail(b'{"error": {"message": "bad\\n  File x.py"}}') == "bad"
    with pytest.raises(Exception, match="http"):
        base_url("gpu-box:8080")


def test_remote_settings_and_schema_agree():
    schema = load_schema("config")
    remote = schema["properties"]["remotePricing"]["properties"]
    assert set(remote) == {camel(f) for f in RemotePricing.__dataclass_fields__}
    defaults = settings_to_dict(Settings())
    assert defaults["remotePricing"] == {k: v["default"] for k, v in remote.items()}
    for key in (
        "remoteModel",
        "apiKeyEnv",
        "remoteTokenizer",
        "requestTimeoutMs",
        "maxParallelRequests",
    ):
        assert defaults[key] == schema["properties"][key]["default"]


def test_remote_cost_by_hand():
    # 450 W for 8 s = 1 Wh; 1 Wh x 0.5/kWh = 0.0005; 1000 x 1/M + 500 x 2/M = 0.002
    cost = compute_remote_cost(
        RemotePricing(
            device_watts=450, price_per_kwh=0.5, input_per_million=1, output_per_million=2
        ),
        Pricing(cloud_input_per_million=3, cloud_output_per_million=15),
        8000.0,
        1000,
        500,
    )
    assert cost.energy_wh == pytest.approx(1.0)
    assert cost.local == pytest.approx(0.0005 + 0.002)
    assert cost.cloud_equivalent == pytest.approx((1000 * 3 + 500 * 15) / 1e6)
