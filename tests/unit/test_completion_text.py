"""What of a prefix-only continuation is shown: up to the end of the line or scope, and
never text that is already after the cursor."""

from __future__ import annotations

from edgewise.context.overlap import cut_at_scope_end, cut_repeated_lines
from edgewise.pipeline.postprocess import completion_stop, trim_completion, wants_multiline


def test_mid_line_stops_at_the_end_of_the_line_and_drops_the_typed_suffix():
    prefix, suffix = "    total = add(a", ")\n"
    assert not wants_multiline(prefix, suffix)
    stop = completion_stop(prefix, multiline=False)
    text = ", b)\n    return total"
    keep = stop(text)
    assert keep == len(", b)")
    assert trim_completion(text[:keep], suffix) == ", b"


def test_a_continuation_that_re_types_the_next_line_is_cut_there():
    following = "    return names\n"
    assert cut_repeated_lines("names.sort()\n    return names", "    ", following) == (
        "names.sort()"
    )
    # the whole suggestion is the line already below: nothing is left to show
    assert cut_repeated_lines("return names", "    ", following) == ""
    # mid-line, the first line continues the cursor line and is never compared
    assert cut_repeated_lines("return names", "    x = ", following) == "return names"
    assert cut_repeated_lines("names.sort()", "    ", "\n\n") == "names.sort()"


def test_a_multi_line_suggestion_that_ran_out_of_tokens_ends_with_its_scope():
    prefix = "    "  # a blank line inside a function body
    assert wants_multiline(prefix, "\n")
    stop = completion_stop(prefix, multiline=True)
    text = "names.sort()\n    return names\n\ndef other"
    assert stop(text) is None  # streaming: 'def other' might still be growing
    assert cut_at_scope_end(text, stop) == "names.sort()\n    return names\n"
    assert cut_at_scope_end("names.sort()", stop) == "names.sort()"
