"""Which workspace file an import names, for each way languages name modules.

A language's spec says which module system it uses (``LanguageSpec.modules``); each
system is one small function here that lists the files an import could mean. Only files
inside the workspace roots are ever returned (nothing outside is read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

NODE_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
NODE_JS_TO_TS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
PARENT_LEVELS = 8  # how far up from the importing file a package root is looked for

Candidates = Callable[[str, Path, list[Path]], Iterator[Path]]


def _python_bases(importer: Path, roots: list[Path]) -> Iterator[Path]:
    package = importer.parent
    while (package / "__init__.py").is_file() and package.parent != package:
        package = package.parent
    yield package
    yield importer.parent
    for root in roots:
        yield root
        yield root / "src"


def python_candidates(source: str, importer: Path, roots: list[Path]) -> Iterator[Path]:
    """``.models`` (relative), ``pkg.mod`` (from the package root or a workspace root)."""
    level = len(source) - len(source.lstrip("."))
    parts = [part for part in source[level:].split(".") if part]
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        bases: Iterator[Path] = iter([base])
    else:
        bases = _python_bases(importer, roots)
    for base in bases:
        target = base.joinpath(*parts)
        if parts:
            yield target.with_name(target.name + ".py")
            yield target.with_name(target.name + ".pyi")
        yield target / "__init__.py"


def node_candidates(source: str, importer: Path, roots: list[Path]) -> Iterator[Path]:
    """``./util`` (relative, with the extensions and index files Node and TypeScript
    try), ``src/util`` from a workspace root (``baseUrl``-style); never node_modules."""
    if source.startswith(("./", "../")) or source in (".", ".."):
        bases = [importer.parent / source]
    elif ":" in source or source.startswith("@"):
        return  # node:fs, packages: outside the workspace's own files
    else:
        bases = [root / source for root in roots] + [root / "src" / source for root in roots]
    for base in bases:
        yield base
        for js, ts_list in NODE_JS_TO_TS.items():
            if base.name.endswith(js):
                for ts in ts_list:
                    yield base.with_name(base.name[: -len(js)] + ts)
        for ext in NODE_EXTENSIONS:
            yield base.with_name(base.name + ext)
        for ext in NODE_EXTENSIONS:
            yield base / f"index{ext}"


def include_candidates(source: str, importer: Path, roots: list[Path]) -> Iterator[Path]:
    """``#include "store.h"``: next to the file, then the roots and their include/ src/."""
    yield importer.parent / source
    for root in roots:
        yield root / source
        yield root / "include" / source
        yield root / "src" / source


def java_candidates(source: str, importer: Path, roots: list[Path]) -> Iterator[Path]:
    """``org.example.Item``: a file under any ancestor of the importer (the source root)."""
    relative = Path(*source.split(".")).with_suffix(".java")
    base = importer.parent
    for _ in range(PARENT_LEVELS):
        yield base / relative
        if base.parent == base:
            break
        base = base.parent
    for root in roots:
        for sub in ("", "src/main/java", "src/test/java", "src"):
            yield root / sub / relative


SYSTEMS: dict[str, Candidates] = {
    "python": python_candidates,
    "node": node_candidates,
    "include": include_candidates,
    "java": java_candidates,
}


def within(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def resolve_module(system: str, source: str, importer: Path, roots: list[Path]) -> Path | None:
    """The first existing workspace file the import may mean, or None."""
    candidates = SYSTEMS.get(system)
    if candidates is None or not source:
        return None
    allowed = roots or [importer.parent]
    for candidate in candidates(source, importer, allowed):
        try:
            path = Path(*candidate.parts).resolve()
        except (OSError, RuntimeError):
            continue
        if path != importer and within(path, allowed) and path.is_file():
            return path
    return None
