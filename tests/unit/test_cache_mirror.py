"""The server's picture of the model process's cache: what a prompt would wait for."""

from __future__ import annotations

from edgewise.model.cache_mirror import CacheMirror


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_prefill_under_way_is_counted_as_far_as_the_speed_has_taken_it() -> None:
    clock = Clock()
    mirror = CacheMirror(200.0, clock)  # tokens per second
    prompt = list(range(1000))
    assert mirror.wait_ms(prompt) == 5000.0  # nothing cached: 1,000 tokens at 200/s
    mirror.evaluating(prompt[:900])  # the prefill of the prompt's stable part
    clock.now += 1.0
    assert mirror.uncached(prompt) == 800  # 200 evaluated so far
    clock.now += 10.0
    assert mirror.uncached(prompt) == 100  # the whole prefill, no more
    assert mirror.wait_ms(prompt) == 500.0


def test_a_stopped_evaluation_keeps_what_it_had_and_grows_no_more() -> None:
    clock = Clock()
    mirror = CacheMirror(100.0, clock)
    mirror.evaluating(list(range(500)))
    clock.now += 2.0
    mirror.stopped()
    clock.now += 60.0
    assert mirror.uncached(list(range(500))) == 300


def test_a_new_prompt_keeps_only_the_common_prefix_of_what_was_held() -> None:
    clock = Clock()
    mirror = CacheMirror(100.0, clock)
    mirror.settled(list(range(400)), None, 0.0, 0)  # an answered request: all of it held
    other = list(range(100)) + [-1] * 300  # shares the first 100 tokens
    mirror.evaluating(other)
    assert mirror.uncached(other) == 300
    clock.now += 1.0
    assert mirror.uncached(other) == 200


def test_answers_say_exactly_what_is_held_and_measure_the_speed() -> None:
    clock = Clock()
    mirror = CacheMirror(None, clock)
    assert mirror.wait_ms([1, 2, 3]) is None  # not measured yet: nothing to estimate with
    prompt = list(range(300))
    mirror.evaluating(prompt)
    mirror.settled(prompt, 120, prompt_ms=600.0, new_tokens=120)  # stopped on the time cap
    assert mirror.speed == 200.0
    assert mirror.uncached(prompt) == 180
    clock.now += 100.0  # idle: no guess that it went on
    assert mirror.uncached(prompt) == 180
    mirror.settled(prompt, None, prompt_ms=1000.0, new_tokens=180)  # 180/s, averaged in
    assert mirror.speed == 190.0
    mirror.settled(prompt, None, prompt_ms=1.0, new_tokens=3)  # too few tokens to measure
    assert mirror.speed == 190.0
