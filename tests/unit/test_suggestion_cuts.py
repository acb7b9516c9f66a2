"""What of a suggestion is shown: cut where the model stops being sure, and never an echo
of the lines around the cursor, of the text after it, or of itself. Crafted token and
probability sequences, as the model gives them."""

from __future__ import annotations

from edgewise.context.overlap import find_echo
from edgewise.pipeline.postprocess import confident_length, finish_completion

ABOVE = "def total(items):\n    result = 0\n    for item in items:\n        result += item\n"


def finish(pieces: list[str], probs: list[float], **kw: object):
    args: dict[str, object] = {
        "line_prefix": "    ",
        "line_suffix": "\n",
        "multiline": True,
        "following": "",
        "above": "",
        "trim_below": 0.2,
    }
    args.update(kw)
    return finish_completion(
        "".join(pieces),
        "eos",
        args.pop("line_prefix"),  # type: ignore[arg-type]
        args.pop("line_suffix"),  # type: ignore[arg-type]
        args.pop("multiline"),  # type: ignore[arg-type]
        args.pop("following"),  # type: ignore[arg-type]
        pieces=pieces,
        probs=probs,
        **args,  # type: ignore[arg-type]
    )


def test_cut_before_the_first_unsure_token_after_the_first_word():
    pieces = ["return", " sum", "(", "items", ")", " +", " offset"]
    probs = [0.9, 0.8, 0.9, 0.7, 0.95, 0.1, 0.05]
    done = finish(pieces, probs)
    assert done.text == "return sum(items)"
    (cut,) = done.cuts
    assert cut.reason == "unsure"
    assert cut.kept == len("return sum(items)")
    assert cut.text == "+ offset"
    assert cut.prob == 0.1 and cut.threshold == 0.2


def test_the_cut_never_splits_a_word_and_never_touches_the_first_word():
    # "calc" is sure, "ulate" is not: the whole word goes
    pieces = ["value", " =", " calc", "ulate", "(", "x", ")"]
    probs = [0.9, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9]
    assert finish(pieces, probs).text == "value ="
    # a first word the model is unsure of is minConfidence's to judge: kept
    pieces = ["nothing", "_here", " =", " 1"]
    probs = [0.01, 0.01, 0.9, 0.01]
    assert finish(pieces, probs).text == "nothing_here ="
    assert confident_length(pieces, probs, 0.2) == (len("nothing_here ="), 0.01)


def test_no_cut_when_off_or_sure_or_without_probabilities():
    pieces = ["return", " x", " +", " 1"]
    assert finish(pieces, [0.9, 0.9, 0.05, 0.9], trim_below=0.0).text == "return x + 1"
    assert finish(pieces, [0.9, 0.9, 0.5, 0.9]).cuts == []
    # a remote server that gave no probabilities: nothing to judge by
    assert finish(pieces, []).text == "return x + 1"


def test_a_line_that_re_types_the_lines_below_is_cut_and_counted():
    pieces = ["result", " =", " 0", "\n", "    return", " result"]
    done = finish(pieces, [0.9] * 6, following="\n    return result\n")
    assert done.text == "result = 0"
    assert [c.reason for c in done.cuts] == ["echo_below"]
    assert done.echoed
    # the second or third non-blank line below counts too (a skipped line, then echo)
    following = "    x = 1\n\n    y = compute(x)\n"
    echo = find_echo("z = 2\n    y = compute(x)", "    ", "", following)
    assert echo is not None and echo.reason == "echo_below" and echo.kept == len("z = 2\n")


def test_a_copy_of_the_block_above_is_cut():
    # the multi-line ghost that copies the body of the loop right above it
    text = "total = 0\nresult = 0\nfor item in items:\n    result += item\nreturn result"
    echo = find_echo(text, "    ", ABOVE, "")
    assert echo is not None and echo.reason == "echo_above"
    assert text[: echo.kept].rstrip() == "total = 0"
    # similar functions share a line or two legitimately
    shared = "for item in items:\n    result += item"
    assert find_echo(shared, "    ", ABOVE + "    return result\n\n", "") is None
    # the line right above, once, is an echo too
    echo = find_echo("result += item", "        ", ABOVE, "")
    assert echo is not None and echo.kept == 0
    # a whole suggestion that is an echo leaves nothing to show
    done = finish(["result", " +=", " item"], [0.9] * 3, line_prefix="        ", above=ABOVE)
    assert done.text == "" and done.cuts[0].reason == "echo_above"


def test_a_suggestion_that_loops_on_itself_is_cut_after_its_first_round():
    text = "x = f(x)\n    x = f(x)\n    x = f(x)"
    echo = find_echo(text, "    ", "", "")
    assert echo is not None and echo.reason == "loop"
    assert text[: echo.kept].rstrip() == "x = f(x)"
    # within one line: the same stretch three times in a row
    text = "self.a.b.a.b.a.b.a.b"
    echo = find_echo(text, "    x = ", "", "")
    assert echo is not None and echo.reason == "loop"
    assert text[: echo.kept] == "self.a.b"
    # two lines in a row repeated
    text = "a = read(f)\nb = parse(a)\na = read(f)\nb = parse(a)"
    echo = find_echo(text, "", "", "")
    assert echo is not None and text[: echo.kept].rstrip() == "a = read(f)\nb = parse(a)"


def test_code_that_repeats_short_lines_legitimately_is_not_an_echo():
    above = "    if a:\n        return None\n"
    text = "else:\n        return None\n    )\n)"
    assert find_echo(text, "    ", above + "    )\n", "") is None
    # dashes in a comment are no loop, nor are different lines
    assert find_echo("# ------------------", "", "", "") is None
    assert find_echo("a = 1\nb = 2\nc = 3", "", "x = 0\n", "d = 4\n") is None


def test_the_text_after_the_cursor_is_not_typed_again():
    pieces = ["a", ",", " b", ")"]
    done = finish(pieces, [0.9] * 4, line_prefix="    add(", line_suffix=")\n", multiline=False)
    assert done.text == "a, b"
    assert [(c.reason, c.text) for c in done.cuts] == [("echo_suffix", ")")]


def test_cuts_are_made_in_order_and_each_is_recorded():
    # an unsure token inside an echo: the echo cut comes first, the unsure one after it
    pieces = ["count", " =", " len", "(items", ")", "\n", "    return", " count"]
    probs = [0.9, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9]
    done = finish(pieces, probs, following="    return count\n")
    assert done.text == "count = len"
    assert [c.reason for c in done.cuts] == ["echo_below", "unsure"]
    assert done.cuts[0].kept == len("count = len(items)")
    assert done.cuts[1].to_dict() == {
        "reason": "unsure",
        "kept": len("count = len"),
        "text": "(items)",
        "prob": 0.1,
        "threshold": 0.2,
    }
