"""The language server's way in: each incremental change of a didChange, as the workspace
applied it, is told to the engine's document store (no comparing of whole texts), and
the store's text, tree, lines and tables still equal a fresh parse of the client's text.

Random didChange messages of one to four changes, with LSP positions in every position
encoding (UTF-16 by default: surrogate pairs count two), CRLF and lone CR line ends,
multi-byte characters and positions past a line's or the document's end (clamped as the
LSP says, by the workspace, before the store sees the change)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec
from tree_sitter import Node, Tree

from edgewise.context.documents import DocumentEdit, DocumentStore
from edgewise.context.imports import bindings
from edgewise.context.outline import outline
from edgewise.context.text_lines import lsp_lines
from edgewise.errors import BadInput
from edgewise.lsp.documents import follow_changes
from edgewise.lsp.workspace import LspTextDocument
from tests.unit.test_incremental_parse import (
    FRAGMENTS,
    LANGUAGES,
    PYTHON,
    assert_same_as_fresh,
)

URI = "file:///project/sample.py"
ENCODINGS = [
    types.PositionEncodingKind.Utf16,
    types.PositionEncodingKind.Utf8,
    types.PositionEncodingKind.Utf32,
]
POSITION = st.tuples(st.integers(0, 26), st.integers(0, 60))  # some past the ends
INSERT = st.lists(st.sampled_from(FRAGMENTS), max_size=3).map("".join)
CHANGE = st.tuples(POSITION, POSITION, INSERT)
BATCHES = st.lists(st.lists(CHANGE, min_size=1, max_size=4), min_size=1, max_size=6)
# multi-byte characters all over: byte offsets drift from character offsets line by line
WIDE = PYTHON.replace("item", "ítem").replace("    ", "  \u3000 ").replace("one", "🙂")
BASES = [PYTHON, WIDE, WIDE.replace("\n", "\r\n"), PYTHON.replace("\n", "\r", 3), ""]


def partial(start: tuple[int, int], end: tuple[int, int], text: str) -> Any:
    lo, hi = sorted([start, end])
    return types.TextDocumentContentChangePartial(
        range=types.Range(
            start=types.Position(line=lo[0], character=lo[1]),
            end=types.Position(line=hi[0], character=hi[1]),
        ),
        text=text,
    )


class Session:
    """A workspace document and the store's, as the server keeps them, and what the
    store's listener was told."""

    def __init__(self, text: str, encoding: types.PositionEncodingKind) -> None:
        self.doc = LspTextDocument(URI, text, position_codec=PositionCodec(encoding))
        self.store = DocumentStore(LANGUAGES)
        self.heard: list[DocumentEdit] = []
        self.store.listener = self.heard.append
        self.parsed = self.store.open(URI, text, "python")
        outline(self.parsed), bindings(self.parsed), self.parsed.lines.words()

    def did_change(self, changes: list[Any]) -> None:
        """What pygls does with a didChange (apply each change in order), then ours."""
        for change in changes:
            self.doc.apply_change(change)
        follow_changes(self.store, URI, self.doc, changes)


def leaves(tree: Tree, data: bytes) -> list[bytes | None]:
    """The text at each leaf's place (None for a leaf an edit touched): after
    ``tree.edit`` every untouched leaf must sit where its text moved, its point (row,
    byte column) agreeing with its byte offset (tree-sitter would otherwise reuse it in
    the wrong place, or re-parse more than the edit)."""
    out: list[bytes | None] = []
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.child_count:
            stack.extend(reversed(node.children))
        elif node.has_changes:
            out.append(None)
        else:
            start = node.start_byte
            row, column = data.count(b"\n", 0, start), start - data.rfind(b"\n", 0, start) - 1
            assert tuple(node.start_point) == (row, column), "a point off its byte offset"
            out.append(data[start : node.end_byte])
    return out


def replayed(before: str, heard: list[DocumentEdit]) -> str:
    """The text the listener's edits lead to from ``before``."""
    text = before
    for edit in heard:
        assert text[edit.start : edit.start + len(edit.old_text)] == edit.old_text
        text = text[: edit.start] + edit.new_text + text[edit.start + len(edit.old_text) :]
    return text


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    base=st.sampled_from(BASES),
    batches=BATCHES,
    encoding=st.sampled_from(ENCODINGS),
    read_every=st.integers(1, 3),
)
def test_changes_told_to_the_store_keep_it_equal_to_a_fresh_parse(
    base: str, batches: list, encoding: types.PositionEncodingKind, read_every: int
) -> None:
    session = Session(base, encoding)
    for index, batch in enumerate(batches, 1):
        before, tree = session.parsed.text, session.parsed._tree
        placed = leaves(tree, session.parsed.data) if tree is not None else []
        session.heard.clear()
        session.did_change([partial(*change) for change in batch])
        assert session.parsed.text is session.doc.source, "the store holds the client's text"
        assert tuple(session.doc.lines) == tuple(lsp_lines(session.doc.source))
        if tree is not None and session.parsed._tree is tree:  # edited, not yet re-parsed
            moved = leaves(tree, session.parsed.data)
            kept = [(m, p) for m, p in zip(moved, placed, strict=True) if m is not None]
            assert all(m == p for m, p in kept), "tree.edit was told other bytes than the change's"
        # one edit per change, each exactly as applied: nothing was found by comparing
        assert len(session.heard) == len(batch)
        assert replayed(before, session.heard) == session.doc.source
        if index % read_every == 0 or index == len(batches):
            assert_same_as_fresh(session.parsed, "python")


def test_several_changes_in_one_did_change_on_a_crlf_line_with_surrogate_pairs() -> None:
    """Changes in one message apply in order, each to the text the previous one left;
    columns count UTF-16 units (😀 is two)."""
    session = Session("a😀b = 1\r\nc = 2\r\n", types.PositionEncodingKind.Utf16)
    session.did_change(
        [
            partial((0, 3), (0, 4), "bb"),  # after the pair: "b" -> "bb"
            partial((1, 0), (1, 1), "🙂d"),  # the next line, in the text the first left
            partial((0, 99), (0, 99), "  # x"),  # past the line's end: before its \r\n
        ]
    )
    assert session.doc.source == "a😀bb = 1  # x\r\n🙂d = 2\r\n"
    assert session.parsed.text is session.doc.source
    assert [(e.start, e.old_text, e.new_text, e.row) for e in session.heard] == [
        (2, "b", "bb", 0),  # offsets in characters (the pair is one)
        (10, "c", "🙂d", 1),
        (8, "", "  # x", 0),
    ]
    assert_same_as_fresh(session.parsed, "python")


def test_a_whole_document_change_between_incremental_ones() -> None:
    session = Session(PYTHON, types.PositionEncodingKind.Utf16)
    session.did_change(
        [
            partial((0, 0), (0, 0), "# one\n"),
            types.TextDocumentContentChangeWholeDocument(text="x = 1\ny = 2\n"),
            partial((1, 0), (1, 1), "zz"),
        ]
    )
    assert session.doc.source == "x = 1\nzz = 2\n" == session.parsed.text
    assert [(e.start, e.old_text, e.new_text) for e in session.heard][-1] == (6, "y", "zz")
    assert_same_as_fresh(session.parsed, "python")


def test_a_store_out_of_step_catches_up_by_comparing() -> None:
    """Should the store's text not be the one the changes were applied to, the changes
    are not applied to it blindly: it ends at the client's text all the same."""
    session = Session(PYTHON, types.PositionEncodingKind.Utf16)
    session.store.sync(URI, PYTHON.replace("LIMIT", "LIMITED"))  # someone else's text
    session.did_change([partial((4, 0), (4, 5), "BOUND")])
    assert session.parsed.text == session.doc.source == PYTHON.replace("LIMIT", "BOUND")
    assert_same_as_fresh(session.parsed, "python")


@pytest.mark.parametrize(
    ("start", "old_end", "new_end", "new_text"),
    [
        (-1, 0, 0, "x" + PYTHON),  # before the start
        (10, len(PYTHON) + 5, 10, PYTHON[:10]),  # past the end
        (20, 10, 20, PYTHON),  # reversed
        (0, 0, 3, "ab" + PYTHON),  # the new text's length does not fit the edit
    ],
)
def test_an_out_of_range_edit_is_refused_and_changes_nothing(
    start: int, old_end: int, new_end: int, new_text: str
) -> None:
    session = Session(PYTHON, types.PositionEncodingKind.Utf16)
    doc = session.parsed
    tree, version, lines = doc.tree, doc.version, list(doc.lines.lines)
    with pytest.raises(BadInput, match=r"out of range: characters .* left as it was"):
        session.store.edit(URI, new_text, start, old_end, new_end)
    assert doc.text is PYTHON and doc.version == version and doc.tree is tree
    assert list(doc.lines.lines) == lines and not session.heard
    assert_same_as_fresh(doc, "python")


def test_an_edit_of_a_document_not_open_is_refused() -> None:
    store = DocumentStore(LANGUAGES)
    with pytest.raises(BadInput, match="not open; nothing changed"):
        store.edit("file:///nowhere.py", "x", 0, 0, 1)
    assert store.get("file:///nowhere.py") is None


def test_the_listener_hears_whole_text_syncs_as_one_edit() -> None:
    store = DocumentStore(LANGUAGES)
    heard: list[DocumentEdit] = []
    store.listener = heard.append
    store.open(URI, "a = 1\nb = 2\n", "python")
    store.sync(URI, "a = 1\nb = 22\n")
    store.sync(URI, "a = 1\nb = 22\n")  # no change: nothing heard
    assert heard == [DocumentEdit(URI, 11, "", "2", 1, heard[0].version)]


def test_a_failing_listener_does_not_stop_the_changes() -> None:
    session = Session(PYTHON, types.PositionEncodingKind.Utf16)

    def broken(edit: DocumentEdit) -> None:
        raise RuntimeError("recorder bug")

    session.store.listener = broken
    session.did_change([partial((4, 0), (4, 5), "BOUND"), partial((0, 0), (0, 0), "#\n")])
    assert session.parsed.text is session.doc.source
    assert session.doc.source == "#\n" + PYTHON.replace("LIMIT", "BOUND")
    assert_same_as_fresh(session.parsed, "python")
