"""The workspace around the open documents: its roots, and the files imports point to.

Files an import names are read from disk (inside the roots only), parsed once and kept
until their modification time or size changes. A file that is open in the editor is
read from the document store instead, so unsaved edits count.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from edgewise import safe_read
from edgewise.context.documents import MAX_PARSE_BYTES, DocumentStore, ParsedDocument
from edgewise.context.imports import Binding, bindings
from edgewise.context.languages import LanguageRegistry
from edgewise.context.outline import Definition, outline
from edgewise.context.query_table import Row
from edgewise.context.resolve import resolve_module

RESOLVE_TTL_S = 10.0  # how long an import's resolution is trusted before checking again
MAX_CACHED_FILES = 2000
MAX_HOPS = 3  # re-exports followed (index.ts → ./x → ./y)


def uri_to_path(uri: str) -> Path | None:
    if uri.startswith("file:"):
        return Path(unquote(urlparse(uri).path))
    if "://" in uri:
        return None
    return Path(uri)


@dataclass
class _CachedFile:
    stamp: tuple[int, int]  # (mtime_ns, size)
    doc: ParsedDocument | None  # None: unreadable, too big or binary


@dataclass(frozen=True)
class Found:
    """A definition found in another file."""

    path: Path
    row: Row[Definition]


class WorkspaceIndex:
    def __init__(self, documents: DocumentStore, languages: LanguageRegistry) -> None:
        self.documents = documents
        self.languages = languages
        self._roots: list[Path] = []
        self._files: dict[Path, _CachedFile] = {}
        self._resolved: dict[tuple[str, str, Path], tuple[float, Path | None]] = {}
        self._names: dict[str, tuple[int, ParsedDocument, dict[str, list[Row[Definition]]]]] = {}

    @property
    def roots(self) -> list[Path]:
        return list(self._roots)

    def set_roots(self, roots: list[Path]) -> None:
        resolved = []
        for root in roots:
            try:
                path = Path(root).resolve()
            except (OSError, RuntimeError):
                continue
            if path.is_dir() and path not in resolved:
                resolved.append(path)
        if resolved != self._roots:
            self._roots = resolved
            self._resolved.clear()

    # --- files ---------------------------------------------------------------------------

    def document(self, path: Path) -> ParsedDocument | None:
        """The parsed file: the editor's copy when open, else the file on disk (cached)."""
        open_doc = self.documents.get(path.as_uri())
        if open_doc is not None:
            return open_doc
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is not None and cached.stamp == stamp:
            return cached.doc
        doc: ParsedDocument | None = None
        language = self.languages.for_document(str(path))
        if language is not None and stat.st_size <= MAX_PARSE_BYTES:
            try:
                text = safe_read.read_text(path, MAX_PARSE_BYTES)
            except (OSError, UnicodeDecodeError):
                text = None
            if text is not None:
                doc = ParsedDocument(path.as_uri(), language, text)
                doc.parse_full()
                if doc.tree is None:
                    doc = None
        if len(self._files) >= MAX_CACHED_FILES:
            self._files.clear()
        self._files[path] = _CachedFile(stamp, doc)
        return doc

    def resolve(self, doc: ParsedDocument, source: str) -> Path | None:
        """The workspace file an import in ``doc`` names, or None."""
        importer = uri_to_path(doc.uri)
        system = doc.language.spec.modules if doc.language is not None else None
        if importer is None or system is None:
            return None
        key = (system, source, importer)
        now = time.monotonic()
        hit = self._resolved.get(key)
        if hit is not None and now - hit[0] < RESOLVE_TTL_S:
            return hit[1]
        roots = self._roots or [importer.parent.resolve()]
        path = resolve_module(system, source, importer.resolve(), roots)
        self._resolved[key] = (now, path)
        return path

    # --- definitions across files -------------------------------------------------------

    def top_level(self, doc: ParsedDocument) -> dict[str, list[Row[Definition]]]:
        """The file's top-level definitions by name (cached per document version)."""
        cached = self._names.get(doc.uri)
        if cached is not None and cached[0] == doc.version and cached[1] is doc:
            return cached[2]
        names: dict[str, list[Row[Definition]]] = {}
        for row in outline(doc):
            if row.meta.container is None:
                names.setdefault(row.meta.name, []).append(row)
        if len(self._names) >= MAX_CACHED_FILES:
            self._names.clear()
        self._names[doc.uri] = (doc.version, doc, names)
        return names

    def members(self, path: Path, container: str) -> list[Found]:
        """The methods and fields of class ``container`` defined in the file."""
        doc = self.document(path)
        if doc is None:
            return []
        return [Found(path, row) for row in outline(doc) if row.meta.container == container]

    def constructors(self, path: Path, container: str) -> list[Found]:
        """What a call of class ``container`` (defined in the file) runs."""
        doc = self.document(path)
        if doc is None:
            return []
        return [
            Found(path, row)
            for row in outline(doc)
            if row.meta.constructor and row.meta.container == container
        ]

    def lookup(self, path: Path, name: str, hops: int = 0) -> list[Found]:
        """Top-level definitions called ``name`` in the file, following its re-exports."""
        doc = self.document(path)
        if doc is None:
            return []
        found = [Found(path, row) for row in self.top_level(doc).get(name, [])]
        if found or hops >= MAX_HOPS:
            return found
        for row in bindings(doc):
            binding = row.meta
            if binding.kind == "wildcard" or (
                binding.local == name and binding.kind in ("symbol", "default")
            ):
                found = self._follow(doc, binding, name, hops + 1)
                if found:
                    return found
        return []

    def _follow(self, doc: ParsedDocument, binding: Binding, name: str, hops: int) -> list[Found]:
        target = self.resolve(doc, binding.source)
        if binding.kind == "wildcard":
            return self.lookup(target, name, hops) if target is not None else []
        if binding.kind == "default":
            return self.default_export(target, hops) if target is not None else []
        wanted = binding.name or name
        found = self.lookup(target, wanted, hops) if target is not None else []
        if not found:
            # `from pkg import sub` (a module), `import org.example.Item` (a class file)
            sub = self.resolve(doc, _join(binding.source, wanted))
            if sub is not None:
                found = self.lookup(sub, wanted, hops)
        return found

    def default_export(self, path: Path, hops: int = 0) -> list[Found]:
        doc = self.document(path)
        if doc is None:
            return []
        for row in bindings(doc):
            if row.meta.kind == "export-default":
                return self.lookup(path, row.meta.local, hops)
        return []

    def binding_targets(
        self, doc: ParsedDocument, binding: Binding, attr: str | None
    ) -> list[Found]:
        """Definitions a binding of ``doc`` brings in: the imported name, the default
        export, or ``attr`` of an imported module (or of a wildcard import)."""
        if binding.kind in ("symbol", "default"):
            found = self._follow(doc, binding, binding.local, 0)
            if found or attr is None or binding.name is None:
                return found
            sub = self.resolve(doc, _join(binding.source, binding.name))
            return self.lookup(sub, attr) if sub is not None else []
        if attr is None:
            return []
        target = self.resolve(doc, binding.source)
        return self.lookup(target, attr) if target is not None else []


def _join(source: str, name: str) -> str:
    if source.endswith(".") or not source:
        return source + name
    if "/" in source:
        return f"{source}/{name}"
    return f"{source}.{name}"


def default_roots(path: Path) -> list[Path]:
    """The project around a file: the nearest folder with a VCS or project marker."""
    markers = (".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml", "setup.py")
    start = path.resolve().parent
    for folder in (start, *start.parents):
        if any(os.path.exists(folder / marker) for marker in markers):
            return [folder]
    return [start]
