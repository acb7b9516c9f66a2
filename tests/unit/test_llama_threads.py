"""Thread counts of the embedded model: a set value, or prompt on every core and
generation on half of them."""

from edgewise.model.llama import thread_counts


def test_a_set_thread_count_is_used_for_both():
    assert thread_counts(3, 16) == (3, 3)


def test_unset_generation_uses_half_the_cores_at_most_four():
    assert thread_counts(0, 1) == (1, 1)
    assert thread_counts(0, 2) == (1, 2)
    assert thread_counts(0, 8) == (4, 8)
    assert thread_counts(0, 32) == (4, 32)
