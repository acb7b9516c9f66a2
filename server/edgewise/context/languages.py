"""Which tree-sitter grammar reads which file, and the query files that describe it.

Grammars come from the per-language wheels (compiled in, nothing downloaded at run
time). What a language's scopes, definitions and doc comments look like lives in
``queries/<language>/*.scm``, not in Python.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import PurePosixPath

from tree_sitter import Language, Parser, Query


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    module: str
    function: str
    extensions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    comment: str = "//"  # line comment marker, for prompts and doc comments
    modules: str | None = None  # how imports name files (see resolve.py), None: not resolved


SPECS: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python", "tree_sitter_python", "language", (".py", ".pyi"), comment="#", modules="python"
    ),
    LanguageSpec(
        "javascript",
        "tree_sitter_javascript",
        "language",
        (".js", ".mjs", ".cjs", ".jsx"),
        ("javascriptreact",),
        modules="node",
    ),
    LanguageSpec(
        "typescript",
        "tree_sitter_typescript",
        "language_typescript",
        (".ts", ".mts", ".cts"),
        modules="node",
    ),
    LanguageSpec(
        "tsx",
        "tree_sitter_typescript",
        "language_tsx",
        (".tsx",),
        ("typescriptreact",),
        modules="node",
    ),
    LanguageSpec("go", "tree_sitter_go", "language", (".go",)),
    LanguageSpec("rust", "tree_sitter_rust", "language", (".rs",)),
    LanguageSpec("java", "tree_sitter_java", "language", (".java",), modules="java"),
    LanguageSpec("c", "tree_sitter_c", "language", (".c", ".h"), modules="include"),
    LanguageSpec(
        "cpp",
        "tree_sitter_cpp",
        "language",
        (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"),
        modules="include",
    ),
)


class LanguageInfo:
    """One language: its grammar, a parser factory and its compiled queries."""

    def __init__(self, spec: LanguageSpec) -> None:
        self.spec = spec
        self._queries: dict[str, Query | None] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    @cached_property
    def language(self) -> Language:
        module = importlib.import_module(self.spec.module)
        return Language(getattr(module, self.spec.function)())

    def parser(self) -> Parser:
        return Parser(self.language)

    def query(self, kind: str) -> Query | None:
        """The compiled ``queries/<language>/<kind>.scm``, or None if the language has none."""
        if kind not in self._queries:
            source = query_source(self.name, kind)
            self._queries[kind] = Query(self.language, source) if source is not None else None
        return self._queries[kind]


INHERITS = "; inherits:"


def query_source(language: str, kind: str, seen: tuple[str, ...] = ()) -> str | None:
    """The text of ``queries/<language>/<kind>.scm``. A first line ``; inherits: a, b``
    puts the same kind of query of those languages first (a grammar that extends another,
    as TSX extends TypeScript and TypeScript extends JavaScript, reuses its patterns)."""
    path = resources.files(__package__).joinpath("queries", language, f"{kind}.scm")
    if not path.is_file():
        return None
    text = path.read_text("utf-8")
    first = text.split("\n", 1)[0]
    if not first.startswith(INHERITS):
        return text
    parents = [name.strip() for name in first[len(INHERITS) :].split(",") if name.strip()]
    if language in seen or any(parent in seen for parent in parents):
        raise ValueError(f"queries/{language}/{kind}.scm: inherits in a cycle ({seen})")
    inherited = [query_source(parent, kind, (*seen, language)) or "" for parent in parents]
    return "\n".join([*inherited, text])


class LanguageRegistry:
    """Finds the language of a document by its LSP languageId or its file name."""

    def __init__(self, specs: tuple[LanguageSpec, ...] = SPECS) -> None:
        self._by_name: dict[str, LanguageInfo] = {}
        self._by_ext: dict[str, LanguageInfo] = {}
        for spec in specs:
            info = LanguageInfo(spec)
            for key in (spec.name, *spec.aliases):
                self._by_name[key] = info
            for ext in spec.extensions:
                self._by_ext[ext] = info

    def get(self, name: str) -> LanguageInfo | None:
        return self._by_name.get(name)

    def for_document(self, uri_or_path: str, language_id: str | None = None) -> LanguageInfo | None:
        if language_id and language_id in self._by_name:
            return self._by_name[language_id]
        suffix = PurePosixPath(uri_or_path.split("?")[0]).suffix.lower()
        return self._by_ext.get(suffix)

    def names(self) -> list[str]:
        return sorted({info.name for info in self._by_name.values()})
