"""One line or several, decided from the syntax tree at the cursor."""

from __future__ import annotations

import pytest

from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry
from edgewise.context.multiline import node_before
from edgewise.pipeline.postprocess import wants_multiline

CASES = [
    ("python", "x = 1\ndef f(a):", True),
    ("python", "class A:\n    def g(self) -> int:", True),
    ("python", "x = 1\nif ready:", True),  # incomplete: an ERROR node with `if`
    ("python", "for i in range(3):\n    pass\nwhile True:", True),
    ("python", 'd = {"a":', False),  # dict entry
    ("python", "g = lambda x:", False),
    ("python", "y = a[1:", False),  # slice
    ("python", "# TODO: later:", False),  # a comment, not a block
    ("python", "x = compute(a, b) + c", False),  # mid-expression
    ("typescript", "function f() {", True),
    ("typescript", 'const s = "a {', False),  # inside a string
]


@pytest.mark.parametrize(("language", "text", "expected"), CASES)
def test_block_openers_get_several_lines_and_inline_colons_one(language, text, expected):
    store = DocumentStore(LanguageRegistry())
    ext = "py" if language == "python" else "ts"
    doc = store.sync(f"file:///t.{ext}", text + "\n", language)
    line = text.count("\n")
    prefix = text.split("\n")[-1]
    assert wants_multiline(prefix, "\n", node_before(doc, line, prefix)) is expected


def test_text_after_the_cursor_or_a_blank_line_decide_without_the_tree():
    assert wants_multiline("    ", "\n") is True
    assert wants_multiline("def f():", "  pass\n") is False
