"""Context from what the user just did: their recent edits as diff hunks, newest last,
and snippets of other open files that resemble the code at the cursor. Both compete for
the same token budget as every other piece, come before the rest of the prompt in a
stable order, and leave the prompt unchanged while the user types along a line."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry
from edgewise.context.prompt import Neighbours, PromptBuilder
from edgewise.context.recent_edits import RecentEdits, line_hunk, render_hunk
from edgewise.context.snippets import SnippetFinder, best_window, query_words, words_of
from edgewise.model.backend import FimTokens

HELPERS = "file:///p/helpers.py"
MAIN = "file:///p/main.py"
HELPERS_TEXT = """import json


def load_settings(path):
    with open(path) as handle:
        settings = json.load(handle)
    settings.setdefault("retries", 3)
    return settings


def unrelated(a, b):
    return a * b + 42
"""
MAIN_TEXT = """import os


def read_config(path):
    with open(path) as handle:
        config = json.load(handle)
    config.setdefault(

"""  # cursor: line 7 (blank), or line 6 after "setdefault("


@pytest.fixture(scope="module")
def vocab(tiny_model: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(str(tiny_model), vocab_only=True, verbose=False)


def builder_of(vocab: llama_cpp.Llama) -> PromptBuilder:
    def tokenize(text: str) -> list[int]:
        return list(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def special(text: str) -> list[int]:
        return list(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    return PromptBuilder(tokenize, special, FimTokens(0, 1, 2), lambda t: f"<{t}>")


def store_with_recorder() -> tuple[DocumentStore, RecentEdits]:
    store = DocumentStore(LanguageRegistry())
    recent = RecentEdits()
    recent.listen_to(store)
    return store, recent


def test_typing_grows_one_hunk_and_an_edit_elsewhere_closes_it():
    store, recent = store_with_recorder()
    text = "a = 1\nb = 2\nc = 3\nd = 4\n"
    store.open(MAIN, text)
    for typed in ("b = 2", "b = 20", "b = 200"):  # typing along line 1
        text = text.replace(text.splitlines()[1], typed, 1)
        store.sync(MAIN, text)
    assert recent.latest(MAIN, 1) == []  # growing on the cursor line: the line shows it
    (growing,) = recent.latest(MAIN, 3)  # elsewhere it counts
    assert (growing.line, growing.old, growing.new) == (1, ("b = 2",), ("b = 200",))
    text = text.replace("d = 4", "d = 40")
    store.sync(MAIN, text)  # another place: the first hunk is closed, a second opens
    first, second = recent.latest(MAIN, 0)
    assert first.new == ("b = 200",) and second.new == ("d = 40",)  # newest last
    assert first.serial < second.serial
    # typing that undid itself leaves no hunk
    store.sync(MAIN, text.replace("a = 1", "a = 12"))
    store.sync(MAIN, text)
    assert [h.new for h in recent.latest(MAIN, 3)] == [("b = 200",), ("d = 40",)]


def test_a_hunk_is_rendered_as_commented_minus_and_plus_lines():
    hunk = line_hunk(MAIN, "x = 1\ny = 2\n", "x = 1\ny = compute(2)\nz = 3\n", 1)
    assert hunk is not None
    assert render_hunk(hunk, "main.py", "#") == (
        "# edited main.py line 2:\n# -y = 2\n# +y = compute(2)\n# +z = 3\n"
    )
    assert line_hunk(MAIN, "same\n", "same\n", 1) is None


def test_the_snippet_is_the_most_similar_window_of_another_file():
    lines = MAIN_TEXT.splitlines(keepends=True)
    query = query_words(lines, 7)
    assert {"config", "handle", "open", "path", "json", "load", "setdefault"} <= query
    assert "def" not in query and "with" not in query  # keywords say nothing
    helper_lines = HELPERS_TEXT.splitlines(keepends=True)
    score, start = best_window(query, [words_of(x) for x in helper_lines], window=5)
    window = "".join(helper_lines[start : start + 5])
    assert "settings = json.load(handle)" in window and "unrelated" not in window
    assert score > 0.3
    (snippet,) = SnippetFinder().find(query, [(HELPERS, HELPERS_TEXT, helper_lines)])
    assert "settings = json.load(handle)" in snippet.text
    # a file with nothing in common gives nothing
    other = ["x = y + z\n"] * 30
    assert SnippetFinder().find(query, [("file:///o.py", "", other)]) == []


def build(vocab, store, recent, budget, line, column, others=True):
    builder = builder_of(vocab)
    doc = store.get(MAIN)
    assert doc is not None
    neighbours = Neighbours(recent, (store.get(HELPERS),) if others else ())
    return builder, builder.build(doc, line, column, budget, None, neighbours)


def test_edits_and_snippets_go_first_within_the_budget(vocab):
    store, recent = store_with_recorder()
    store.open(HELPERS, HELPERS_TEXT)
    store.open(MAIN, MAIN_TEXT.replace("import os", "import sys"))
    store.sync(MAIN, MAIN_TEXT)  # the user just changed the import
    builder, prompt = build(vocab, store, recent, 400, 7, 4)
    kinds = [p.kind for p in prompt.pieces]
    assert kinds[:2] == ["snippet", "edit"], kinds  # stable order: snippets, then edits
    assert "# Compare this snippet from helpers.py:" in prompt.text
    assert "# edited main.py line 1:\n# -import sys\n# +import os\n" in prompt.text
    assert len(prompt.tokens) <= 400
    assert sum(p.tokens for p in prompt.pieces) == len(prompt.tokens)
    # they compete for the budget: a small one keeps the lines at the cursor instead
    for budget in (24, 48, 96, 160, 256):
        _, small = build(vocab, store, recent, budget, 7, 4)
        assert len(small.tokens) <= budget
        if budget <= 48:
            assert not {"snippet", "edit"} & {p.kind for p in small.pieces}
    # each can be left out
    _, without = build(vocab, store, None, 400, 7, 4, others=False)
    assert not {"snippet", "edit"} & {p.kind for p in without.pieces}


def test_typing_along_the_cursor_line_keeps_what_precedes_it(vocab):
    store, recent = store_with_recorder()
    store.open(HELPERS, HELPERS_TEXT)
    text = MAIN_TEXT.replace("import os", "import sys")
    store.open(MAIN, text)
    text = MAIN_TEXT
    store.sync(MAIN, text)
    builder = builder_of(vocab)
    neighbours = Neighbours(recent, (store.get(HELPERS),))  # type: ignore[arg-type]
    before: list[int] | None = None
    line = "    config.setdefault("
    for typed in ('"', '"retries', '"retries",', '"retries", 3)'):
        text = text.replace(line, line + typed, 1)
        line += typed
        doc = store.sync(MAIN, text)
        prompt = builder.build(doc, 6, len(line), 400, None, neighbours)
        head = prompt.tokens[: prompt.tokens.index(1)]  # everything before the FIM suffix
        assert "edit" in [p.kind for p in prompt.pieces]
        if before is not None:
            assert head == before  # the cursor line's own edits never show up as a hunk
        before = head


def test_the_recorder_given_only_texts_finds_the_same_hunks_as_told_edits():
    store, told = store_with_recorder()
    alone = RecentEdits()
    texts = [
        "a = 1\nb = 2\nc = 3\n",
        "a = 1\nb = 2\nb2 = 5\nc = 3\n",
        "a = 10\nb = 2\nb2 = 5\nc = 3\n",
    ]
    store.open(MAIN, texts[0])
    for before, after in zip(texts, texts[1:], strict=False):
        store.sync(MAIN, after)
        alone.record(MAIN, before, after)
    assert told.latest(MAIN, 3) == alone.latest(MAIN, 3)
    assert [h.new for h in alone.latest(MAIN, 3)] == [("b2 = 5",), ("a = 10",)]


def test_only_documents_of_the_workspace_lend_their_text(vocab, tmp_path):
    from edgewise.pipeline.services import Services

    services = Services(report_log=False)
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    services.workspace_roots = [project]
    member = services.workspace_member((project / "main.py").as_uri())
    assert member((project / "pkg" / "helpers.py").as_uri())
    assert not member((elsewhere / "helpers.py").as_uri())
    assert not member("untitled:Untitled-1")
    # the prompt leaves out what is not allowed: the snippet, and the other file's edit
    store, recent = store_with_recorder()
    store.open(HELPERS, HELPERS_TEXT)
    store.sync(HELPERS, HELPERS_TEXT.replace("import json", "import json, os"))
    store.open(MAIN, MAIN_TEXT)
    doc = store.get(MAIN)
    assert doc is not None
    outside = Neighbours(recent, (store.get(HELPERS),), lambda uri: uri == MAIN)  # type: ignore[arg-type]
    prompt = builder_of(vocab).build(doc, 7, 4, 400, None, outside)
    assert not {"snippet", "edit"} & {p.kind for p in prompt.pieces}
    inside = Neighbours(recent, (store.get(HELPERS),))  # type: ignore[arg-type]
    prompt = builder_of(vocab).build(doc, 7, 4, 400, None, inside)
    assert {"snippet", "edit"} <= {p.kind for p in prompt.pieces}
    services.close()
