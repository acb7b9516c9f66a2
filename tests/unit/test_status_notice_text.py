"""The status notice says why nothing was shown: a suggestion hidden for low confidence,
or one cut to nothing (an echo of the code around the cursor, a loop); a suggestion
shown, even cut short, gets no notice."""

from __future__ import annotations

from edgewise.lsp.language_server import NOTICE_MS, notice_for


def report(**fields: object) -> dict:
    return {"confidence": {"score": 0.031}, "hidden": False, "cuts": [], **fields}


def test_hidden_says_how_sure():
    notice = notice_for(report(hidden=True))
    assert notice == {"kind": "hidden", "text": "hidden: not sure enough (0.03)", "ms": NOTICE_MS}


def test_cut_to_nothing_says_what_it_repeated():
    echo = report(cuts=[{"reason": "echo_below", "kept": 0, "text": "return x"}])
    assert notice_for(echo) == {
        "kind": "cut",
        "text": "not shown: it repeated the lines below",
        "ms": NOTICE_MS,
    }
    loop = report(cuts=[{"reason": "loop", "kept": 0, "text": "a = a"}])
    assert notice_for(loop)["text"] == "not shown: it repeated itself"  # type: ignore[index]


def test_a_shown_suggestion_has_no_notice():
    assert notice_for(report()) is None
    trimmed = report(cuts=[{"reason": "unsure", "kept": 12, "text": "foo", "prob": 0.1}])
    assert notice_for(trimmed) is None
