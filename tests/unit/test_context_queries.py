"""Each language's query files on a small real-looking file: definitions (with signatures
whose bodies are stripped and first doc line kept), imports, and enclosing scopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.context.documents import DocumentStore, ParsedDocument, error_ranges
from edgewise.context.imports import bindings
from edgewise.context.languages import LanguageRegistry
from edgewise.context.outline import outline
from edgewise.context.scopes import enclosing_scopes

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "languages"
LANGUAGES = LanguageRegistry()


def parse(name: str) -> ParsedDocument:
    path = SAMPLES / name
    doc = DocumentStore(LANGUAGES).open(path.as_uri(), path.read_text("utf-8"))
    assert doc.tree is not None and not doc.tree.root_node.has_error, name
    return doc


def table(doc: ParsedDocument) -> set[tuple[str, str, str | None]]:
    return {(r.meta.kind, r.meta.name, r.meta.container) for r in outline(doc)}


def signature(doc: ParsedDocument, name: str, container: str | None = None) -> str:
    (row,) = [r for r in outline(doc) if r.meta.name == name and r.meta.container == container]
    return row.meta.signature


def imports(doc: ParsedDocument) -> set[tuple[str, str, str | None, str]]:
    return {(b.meta.local, b.meta.source, b.meta.name, b.meta.kind) for b in bindings(doc)}


def innermost_scope(doc: ParsedDocument, line: int, text: str) -> str:
    """First line of the innermost scope around the first ``text`` on 1-based ``line``."""
    source_line = doc.text.splitlines()[line - 1]
    assert text in source_line
    byte = len("".join(doc.text.splitlines(keepends=True)[: line - 1]).encode())
    byte += len(source_line[: source_line.index(text)].encode())
    scope = enclosing_scopes(doc, byte)[-1]
    return doc.data[scope.node.start_byte : scope.node.end_byte].decode().split("\n")[0]


EXPECTED: dict[str, set[tuple[str, str, str | None]]] = {
    "sample.py": {
        ("constant", "MAX_ITEMS", None),
        ("constant", "DEFAULT_NAME", None),
        ("function", "load", None),
        ("class", "Inventory", None),
        ("method", "__init__", "Inventory"),
        ("method", "count", "Inventory"),
        ("method", "refresh", "Inventory"),
    },
    "sample.js": {
        ("constant", "helpers", None),
        ("constant", "LIMIT", None),
        ("function", "readConfig", None),
        ("function", "double", None),
        ("class", "Loader", None),
        ("method", "constructor", "Loader"),
        ("method", "load", "Loader"),
    },
    "sample.ts": {
        ("constant", "DEFAULT_TIMEOUT", None),
        ("class", "Closable", None),
        ("method", "close", "Closable"),
        ("type", "Handler", None),
        ("type", "Color", None),
        ("function", "timeout", None),
        ("class", "Subject", None),
        ("field", "observers", "Subject"),
        ("method", "next", "Subject"),
        ("method", "close", "Subject"),
        ("function", "lift", None),
    },
    "sample.tsx": {
        ("class", "Props", None),
        ("field", "label", "Props"),
        ("function", "Greeting", None),
        ("function", "Card", None),
        ("class", "Panel", None),
        ("method", "render", "Panel"),
    },
    "sample.go": {
        ("constant", "MaxItems", None),
        ("type", "Item", None),
        ("type", "Store", None),
        ("function", "NewItem", None),
        ("method", "String", "Item"),
    },
    "sample.rs": {
        ("constant", "MAX_ITEMS", None),
        ("type", "Inventory", None),
        ("type", "Change", None),
        ("class", "Source", None),
        ("method", "names", "Source"),
        ("method", "new", "Inventory"),
        ("method", "add", "Inventory"),
        ("function", "total", None),
        ("function", "helper", None),
    },
    "Sample.java": {
        ("class", "Inventory", None),
        ("field", "MAX_ITEMS", "Inventory"),
        ("field", "items", "Inventory"),
        ("method", "Inventory", "Inventory"),
        ("method", "add", "Inventory"),
        ("class", "Listener", "Inventory"),
        ("method", "changed", "Listener"),
        ("type", "Kind", "Inventory"),
        ("class", "Pair", "Inventory"),
    },
    "sample.c": {
        ("constant", "MAX_ITEMS", None),
        ("function", "SQUARE", None),
        ("type", "item", None),
        ("type", "item_t", None),
        ("type", "color", None),
        ("constant", "total_count", None),
        ("function", "store_add", None),
        ("function", "item_print", None),
        ("function", "item_name", None),
    },
    "sample.cpp": {
        ("constant", "kMaxItems", None),
        ("class", "Item", None),
        ("method", "Item", "Item"),
        ("method", "name", "Item"),
        ("method", "count", "Item"),
        ("field", "name_", "Item"),
        ("class", "Point", None),
        ("field", "x", "Point"),
        ("field", "y", "Point"),
        ("function", "clamp", None),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_definitions_of_each_language(name):
    assert table(parse(name)) == EXPECTED[name]


def test_python_signatures_strip_bodies_and_keep_the_first_docstring_line():
    doc = parse("sample.py")
    assert signature(doc, "load") == (
        'def load(path, *, limit=MAX_ITEMS):\n    """Read items from a file."""'
    )
    assert signature(doc, "count", "Inventory") == (
        "    @property\n    def count(self) -> int: ..."
    )
    assert signature(doc, "MAX_ITEMS") == "MAX_ITEMS = 100"
    init = [r for r in outline(doc) if r.meta.name == "__init__"][0].meta
    assert init.constructor
    assert "inner" not in {r.meta.name for r in outline(doc)}  # local to refresh


def test_brace_languages_show_doc_comments_and_elide_bodies():
    js = parse("sample.js")
    assert signature(js, "readConfig") == (
        "// Reads a config file.\nexport function readConfig(file) {…}"
    )
    assert signature(js, "load", "Loader") == "  // Loads one entry.\n  load(name) {…}"
    go = parse("sample.go")
    assert signature(go, "String", "Item") == (
        "// String formats the item.\nfunc (i *Item) String() string {…}"
    )
    assert "Count int" in signature(go, "Item")  # a struct is shown with its fields
    rust = parse("sample.rs")
    assert signature(rust, "new", "Inventory") == (
        "    // Makes an empty inventory.\n    pub fn new() -> Self {…}"
    )
    java = parse("Sample.java")
    assert signature(java, "add", "Inventory") == (
        "    // Adds an item.\n    public boolean add(Item item) {…}"
    )
    c = parse("sample.c")
    assert signature(c, "item_print") == (
        "// Prints one item.\nvoid item_print(const item_t *item);"
    )
    cpp = parse("sample.cpp")
    assert signature(cpp, "clamp") == "template <typename T>\nT clamp(T value, T lo, T hi);"
    assert signature(cpp, "Item") == "// One item in the store.\nclass Item {…};"
    ts = parse("sample.ts")
    assert signature(ts, "next", "Subject") == (
        "  // Sends a value to every observer.\n  next(value: T): void {…}"
    )
    assert signature(ts, "Color").splitlines() == [
        "export enum Color {",
        "  Red,",
        "  Green,",
        "}",
    ]


def test_imports_of_each_language():
    assert imports(parse("sample.py")) == {
        ("os", "os", None, "module"),
        ("OD", "collections", "OrderedDict", "symbol"),
        ("Item", ".models", "Item", "symbol"),
        ("Store", ".models", "Store", "symbol"),
    }
    assert imports(parse("sample.js")) == {
        ("fs", "node:fs", "default", "default"),
        ("parse", "./util.js", "parse", "symbol"),
        ("fmt", "./util.js", "format", "symbol"),
        ("path", "path", None, "module"),
        ("helpers", "./helpers", None, "module"),
        ("Loader", "", "Loader", "export-default"),
    }
    ts = bindings(parse("sample.ts"))
    assert {(b.meta.local, b.meta.kind, b.meta.reexport) for b in ts} == {
        ("Observable", "symbol", False),
        ("Operator", "symbol", False),
        ("map", "symbol", True),
        ("", "wildcard", True),
    }
    assert imports(parse("sample.tsx")) == {
        ("React", "react", "default", "default"),
        ("Button", "./Button", "Button", "symbol"),
    }
    assert imports(parse("sample.go")) == {
        ("fmt", "fmt", None, "module"),
        ("str", "strings", None, "module"),
    }
    assert imports(parse("sample.rs")) == {
        ("HashMap", "std::collections", "HashMap", "symbol"),
        ("Item", "crate::model", "Item", "symbol"),
        ("Backend", "crate::model", "Store", "symbol"),
    }
    assert imports(parse("Sample.java")) == {
        ("List", "java.util", "List", "symbol"),
        ("Map", "java.util", "Map", "symbol"),
        ("requireNonNull", "java.util.Objects", "requireNonNull", "symbol"),
    }
    assert imports(parse("sample.c")) == {
        ("", "stdio.h", None, "wildcard"),
        ("", "store.h", None, "wildcard"),
    }
    assert ("", "store.hpp", None, "wildcard") in imports(parse("sample.cpp"))


@pytest.mark.parametrize(
    ("name", "line", "text", "scope"),
    [
        ("sample.py", 29, "return len", "    def count(self) -> int:"),
        ("sample.js", 28, "return readConfig", "  load(name) {"),
        ("sample.ts", 30, "observer(value)", "  next(value: T): void {"),
        ("sample.tsx", 19, "return <Greeting", "  render() {"),
        ("sample.go", 29, "return fmt", "func (i *Item) String() string {"),
        ("sample.rs", 30, "self.items", "    pub fn add(&mut self, item: Item) -> Option<Item> {"),
        ("Sample.java", 23, "return items", "    public boolean add(Item item) {"),
        ("sample.c", 24, "printf", "void item_print(const item_t *item)"),
        ("sample.cpp", 29, "return 1", "int Item::count() const {"),
    ],
)
def test_enclosing_scope_of_each_language(name, line, text, scope):
    assert innermost_scope(parse(name), line, text).strip() == scope.strip()


def test_syntax_errors_everywhere_still_give_scopes_and_definitions():
    text = (SAMPLES / "sample.py").read_text("utf-8")
    broken = text.replace("return ", "return @@ ").replace(" = ", " = = ")
    doc = DocumentStore(LANGUAGES).open("file:///broken.py", broken)
    assert doc.tree is not None
    assert len(error_ranges(doc.tree.root_node)) >= 5  # an error in every function
    assert table(doc) == EXPECTED["sample.py"]
    line = next(i for i, t in enumerate(broken.splitlines(), 1) if "return @@ len" in t)
    assert innermost_scope(doc, line, "return").strip() == "def count(self) -> int:"


def test_every_query_file_compiles_and_registries_can_come_and_go():
    """Two registries, one dropped: the queries of the other still work (a pattern with
    #eq? before #set! crashed py-tree-sitter when its query was freed)."""
    for _ in range(2):
        registry = LanguageRegistry()
        for name in registry.names():
            info = registry.get(name)
            assert info is not None
            for kind in ("definitions", "imports", "scopes"):
                assert info.query(kind) is not None, (name, kind)
        del registry
    assert table(parse("sample.py")) == EXPECTED["sample.py"]


def test_a_query_that_inherits_carries_its_parents_patterns_first():
    """TSX's queries say `; inherits: typescript`, TypeScript's imports inherit
    JavaScript's: the parent's text comes first, then the file's own patterns."""
    from edgewise.context.languages import query_source

    typescript = query_source("typescript", "imports")
    javascript = query_source("javascript", "imports")
    assert typescript is not None and javascript is not None
    assert typescript.startswith(javascript) and "import_require_clause" in typescript
    assert "import_require_clause" not in javascript
    tsx, ts = query_source("tsx", "definitions"), query_source("typescript", "definitions")
    assert tsx is not None and ts is not None and tsx.startswith(ts)
    assert query_source("python", "no-such-kind") is None
