"""Random edit sequences: what the store keeps incrementally always equals a fresh parse.

After every edit the document's syntax tree, its line table and its query tables
(definitions and imports) must be exactly what parsing the new text from scratch gives,
whether the store is told the edit (``DocumentStore.edit``, the language server's way) or
finds it by comparing whole texts (``DocumentStore.sync``, batch and whole-document syncs).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Tree

from edgewise.context.documents import DocumentStore, ParsedDocument
from edgewise.context.imports import bindings
from edgewise.context.languages import LanguageRegistry
from edgewise.context.outline import outline
from edgewise.context.text_lines import TextLines, split_lines

LANGUAGES = LanguageRegistry()

PYTHON = '''"""Módulo de inventário 🙂."""
import os
from .models import Item, Store as Base

LIMIT = 10


class Inventory(Base):
    """Items by name."""

    def __init__(self, items):
        self.items = {i.name: i for i in items}

    def add(self, item: Item) -> None:
        # adds one
        self.items[item.name] = item


def load(path):
    return Inventory([Item(line) for line in open(path)])
'''

TYPESCRIPT = """import { Observable } from "./Observable";
export * from "./util";

/** Something closable. */
export interface Closable {
  close(): void;
}

export class Subject<T> implements Closable {
  private observers: ((v: T) => void)[] = [];

  next(value: T): void {
    for (const o of this.observers) o(value);
  }

  close(): void {
    this.observers = [];
  }
}

export const lift = (x: number) => {
  return x * 2;
};
"""

# Pieces of code and of text that break code: what random edits insert.
FRAGMENTS = [
    "x",
    "é",
    "🙂",
    "ß",
    " ",
    "    ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    ":",
    "(",
    ")",
    "{",
    "}",
    ";",
    '"',
    '"""',
    "'",
    "#",
    "//",
    "/*",
    "*/",
    "def f(a):\n    return a\n",
    "class K:\n    pass\n",
    "function g() { return 1; }\n",
    "import x from './y';\n",
    "from . import z\n",
    "@dec\n",
    "    def m(self):\n        ...\n",
    "export const C = 1;\n",
]


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[float, float, str]]:
    count = draw(st.integers(min_value=1, max_value=12))
    out = []
    for _ in range(count):
        where = draw(st.floats(min_value=0.0, max_value=1.0))
        span = draw(st.sampled_from([0.0, 0.0, 0.0, 0.001, 0.01, 0.05, 0.3, 1.0]))
        text = "".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=4)))
        out.append((where, span, text))
    return out


def apply(text: str, where: float, span: float, insert: str) -> tuple[str, int, int]:
    """The text after the edit, and the characters ``start:end`` it replaced."""
    start = min(int(where * len(text)), len(text))
    end = min(start + int(span * len(text)), len(text))
    return text[:start] + insert + text[end:], start, end


def nodes(tree: Tree) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        out.append(
            (
                node.type,
                node.start_byte,
                node.end_byte,
                tuple(node.start_point),
                tuple(node.end_point),
                node.is_missing,
                node.is_error,
            )
        )
        stack.extend(reversed(node.children))
    return out


def assert_same_as_fresh(doc: ParsedDocument, language: str) -> None:
    fresh = ParsedDocument("file:///fresh", LANGUAGES.get(language), doc.text)
    fresh.parse_full()
    assert doc.tree is not None and fresh.tree is not None
    assert str(doc.tree.root_node) == str(fresh.tree.root_node)
    assert nodes(doc.tree) == nodes(fresh.tree)
    lines = TextLines(doc.text)
    assert doc.lines.lines == split_lines(doc.text) == lines.lines
    assert list(doc.lines.starts) == list(lines.starts)
    assert +doc.lines.words() == +lines.words()  # identifier counts, kept incrementally
    assert outline(doc) == outline(fresh)
    assert bindings(doc) == bindings(fresh)


def replay(
    base: str,
    language: str,
    steps: list[tuple[float, float, str]],
    read_every: int = 1,
    slice_s: float | None = None,
    door: str = "sync",
) -> None:
    """Apply the edits one by one; compare with a fresh parse after every ``read_every``
    edits (the tables combine the edits they have not seen yet) and at the end. With
    ``slice_s``, the tables are read after every edit with that little time for the
    re-parse (the previous tree, edited, stands in when it does not finish), and the
    parse is finished before comparing. ``door`` "edit" tells the store each edit,
    "sync" hands it the whole new text."""
    store = DocumentStore(LANGUAGES)
    uri = f"file:///project/sample.{'py' if language == 'python' else 'ts'}"
    doc = store.open(uri, base, language)
    outline(doc), bindings(doc), doc.lines.words()  # build the incremental tables first
    text = base
    for index, (where, span, insert) in enumerate(steps, 1):
        text, start, end = apply(text, where, span, insert)
        if door == "edit":
            assert store.edit(uri, text, start, end, start + len(insert)) is doc
        else:
            assert store.sync(uri, text, language) is doc
        assert doc.text == text
        if slice_s is not None:
            with doc.parse_budget(slice_s):
                outline(doc), bindings(doc)  # on whatever tree the time allowed
        if index % read_every == 0 or index == len(steps):
            if slice_s is not None:
                assert doc.advance_parse(None)
            assert_same_as_fresh(doc, language)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOORS = pytest.mark.parametrize("door", ["edit", "sync"])


@DOORS
@FAST
@given(edits())
def test_python_edits_keep_tree_lines_and_tables_equal_to_a_fresh_parse(door, steps):
    replay(PYTHON, "python", steps, door=door)


@DOORS
@FAST
@given(edits())
# a missing field name, zero-width on the line break above the edited line
@example([(0.75, 0.0, "\n\n((")])
def test_typescript_edits_keep_tree_lines_and_tables_equal_to_a_fresh_parse(door, steps):
    replay(TYPESCRIPT, "typescript", steps, door=door)


@DOORS
@FAST
@given(edits(), st.integers(min_value=2, max_value=6))
def test_tables_combine_several_edits_made_between_two_reads(door, steps, read_every):
    replay(PYTHON, "python", steps, read_every, door=door)


@DOORS
@FAST
@given(edits(), st.integers(min_value=2, max_value=6))
def test_far_apart_edits_made_between_two_reads(door, steps, read_every):
    """In a long file edits land kilobytes apart: the tables follow each one in turn."""
    long_file = "\n".join(PYTHON.replace("Inventory", f"Inventory{i}") for i in range(24))
    replay(long_file, "python", steps, read_every, door=door)


@pytest.mark.parametrize(("seed", "deletes"), [(s, True) for s in range(8)] + [(1, False)])
def test_many_small_edits_across_a_long_file(seed, deletes):
    """Forty one-fragment edits at random places, tables read every fifth edit (inserts
    only, seed 1, once left methods under a class whose header a new string swallowed)."""
    long_file = "\n".join(PYTHON.replace("Inventory", f"Inventory{i}") for i in range(24))
    rng = random.Random(seed)
    steps = []
    for _ in range(40):
        where = rng.random()
        span = rng.choice([0.0, 0.0, 0.001, 0.01]) if deletes else 0.0
        steps.append((where, span, rng.choice(FRAGMENTS)))
    replay(long_file, "python", steps, read_every=5)


@DOORS
@FAST
@given(edits())
def test_edits_starting_from_an_empty_document(door, steps):
    replay("", "python", steps, door=door)


@FAST
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=20))
def test_typing_at_the_end_of_the_file(pieces):
    replay(PYTHON, "python", [(1.0, 0.0, piece) for piece in pieces])


@DOORS
def test_crlf_document_and_deleting_everything(door):
    base = PYTHON.replace("\n", "\r\n")
    steps = [(0.5, 0.0, "\n"), (0.2, 0.01, "\r"), (0.0, 1.0, ""), (0.0, 0.0, "a\r\nb")]
    replay(base, "python", steps, door=door)


@DOORS
def test_multibyte_characters_shift_byte_columns(door):
    steps = [(0.3, 0.0, "🙂é"), (0.31, 0.0, "ß"), (0.9, 0.0, "\n🙂\n")]
    replay(PYTHON, "python", steps, door=door)


def pending(doc: ParsedDocument) -> bool:
    """``doc.parse_pending``, read afresh (a type checker keeps what an ``assert`` on the
    property said, across the calls that change it)."""
    return doc.parse_pending


SLICE_S = 0.0002  # far shorter than a re-parse of the long file: most do not finish


@FAST
@given(edits(), st.integers(min_value=1, max_value=4))
def test_re_parses_out_of_time_end_equal_to_a_fresh_parse(steps, read_every):
    """Re-parses that run out of time leave the previous tree, edited, and the tables
    read meanwhile; once a parse finishes, all of it is exactly a fresh parse."""
    long_file = "\n".join(PYTHON.replace("Inventory", f"Inventory{i}") for i in range(24))
    replay(long_file, "python", steps, read_every, slice_s=SLICE_S, door="edit")


def test_an_opened_string_in_a_big_file_leaves_the_previous_tree_standing():
    """Typing the quotes of a docstring in the middle of a 10,000-line file makes the rest
    of the file a string: a completion's read of the tree gets the previous tree (edited)
    instead of waiting for the whole-file re-parse, which a pause then finishes."""
    big = "\n".join(PYTHON.replace("Inventory", f"Inventory{i}") for i in range(500))
    assert big.count("\n") > 10_000
    store = DocumentStore(LANGUAGES)
    doc = store.open("file:///project/big.py", big, "python")
    before = doc.tree
    middle = big.index("def add", len(big) // 2)
    store.sync(doc.uri, big[:middle] + '"""' + big[middle:], "python")
    with doc.parse_budget(SLICE_S):
        assert doc.tree is before and pending(doc) and doc.parse_timed_out
        assert doc.tree is not None
        assert doc.tree.root_node.end_byte == len(doc.data), "the previous tree, edited"
        names = {row.meta.name for row in outline(doc)}  # the tables answer meanwhile
    assert "Inventory499" in names
    assert doc.advance_parse(None)
    assert not pending(doc) and doc.tree is not before
    assert_same_as_fresh(doc, "python")


def test_closing_a_docstring_in_a_big_file_leaves_the_tables_to_a_pause():
    """Typing inside a docstring that swallowed the rest of a 10,000-line file, then
    closing it: completions meanwhile read the tree within a keystroke's time, the
    tables answer with what they had (following the rest of the file anew would take
    ~0.2 s), and a pause brings tree and tables to exactly a fresh parse. A pause's
    re-parse stops when input arrives and leaves the tree as it was."""
    big = "\n".join(PYTHON.replace("Inventory", f"Inventory{i}") for i in range(500))
    store = DocumentStore(LANGUAGES)
    doc = store.open("file:///project/big.py", big, "python")
    first = outline(doc)
    bindings(doc)
    middle = big.index("def add", len(big) // 2)
    text = big[:middle] + '"""' + big[middle:]
    store.sync(doc.uri, text, "python")
    assert not doc.advance_parse(None, interrupted=lambda: True), "input arrived: stopped"
    assert doc.parse_pending
    assert doc.advance_parse(None)  # the pause: the rest of the file is now a string
    assert doc.tree is not None and doc.tree.root_node.has_error
    cursor = middle + 3
    for ch in "Adds one item.":
        text = text[:cursor] + ch + text[cursor:]
        cursor += 1
        store.sync(doc.uri, text, "python")
        with doc.parse_budget(0.004):
            assert outline(doc) == first  # as before the string opened
        assert doc.parse_pending
    text = text[:cursor] + '"""\n    ' + text[cursor:]
    store.sync(doc.uri, text, "python")
    with doc.parse_budget(1.0):  # a re-parse that fits; the tables' catch-up does not
        assert outline(doc) == first
        closed = doc.tree
        assert closed is not None and not closed.root_node.has_error
    assert pending(doc), "the tables wait for a pause"
    doc.catch_up()
    assert not pending(doc) and outline(doc) != first  # the docstring's lines
    assert_same_as_fresh(doc, "python")
