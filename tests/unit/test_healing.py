"""Token healing: the fast vocabulary index agrees with a scan of every token, and a
healed prompt is the prompt minus its last token."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edgewise.model.healing import PieceIndex, _next_prefix, heal_prompt
from edgewise.model.llama import LlamaBackend


def brute_force(
    pieces: list[bytes], want: bytes, excluded: AbstractSet[int] = frozenset()
) -> list[int]:
    return [
        t
        for t, p in enumerate(pieces)
        if p and t not in excluded and (p.startswith(want) or want.startswith(p))
    ]


def test_compatible_tokens_on_a_hand_made_vocabulary():
    pieces = [b"", b"a", b"ab", b"abc", b"b", b"n", b"na", b"name", b" n", b"\xff", b"\xff\xfe"]
    index = PieceIndex(pieces)
    assert index.compatible(b"na").tolist() == [5, 6, 7]  # "n" is a prefix; na, name extend
    assert index.compatible(b"ab").tolist() == [1, 2, 3]
    assert index.compatible(b"\xff").tolist() == [9, 10]  # no carry past 0xff
    assert index.compatible(b"zz").tolist() == []
    assert index.mask(b"a").sum() == 3


def test_excluded_tokens_are_never_allowed():
    pieces = [b"n", b"na", b"nb"]
    excluded = np.array([False, True, False])
    assert PieceIndex(pieces, excluded).compatible(b"n").tolist() == [0, 2]


def test_next_prefix_carries_over_0xff():
    assert _next_prefix(b"ab") == b"ac"
    assert _next_prefix(b"a\xff") == b"b"
    assert _next_prefix(b"\xff\xff") is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(min_size=0, max_size=4), min_size=1, max_size=40),
    st.binary(min_size=1, max_size=5),
)
def test_index_equals_a_scan_of_every_token(pieces, want):
    assert PieceIndex(pieces).compatible(want).tolist() == brute_force(pieces, want)


def test_index_equals_a_scan_on_the_real_smollm2_vocabulary(smollm2):
    backend = LlamaBackend.load_vocab(smollm2)
    pieces = [backend.token_bytes(t) for t in range(backend.info().n_vocab)]
    index = backend.piece_index()
    eog = {t for t in range(len(pieces)) if backend._eog[t]}  # noqa: SLF001
    for want in (b"n", b" ", b"\n    ", b"self", b"append(", "é".encode()):
        assert index.compatible(want).tolist() == brute_force(pieces, want, eog), want
    backend.close()


def test_heal_prompt_backs_up_one_text_token():
    text = {1: "", 2: "names", 3: ".", 4: "n", 5: "\ufffd"}
    healed = heal_prompt([1, 2, 3, 4], lambda t: text[t])
    assert healed is not None and healed.tokens == [1, 2, 3] and healed.heal_prefix == "n"
    assert heal_prompt([2, 1], lambda t: text[t]) is None  # a marker token: nothing to heal
    assert heal_prompt([2, 5], lambda t: text[t]) is None  # half a UTF-8 character
    assert heal_prompt([4], lambda t: text[t]) is None  # nothing would be left
