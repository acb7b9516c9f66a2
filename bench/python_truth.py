"""Ground truth for bench/context_recall.py on Python: which definitions each line inside a
function body uses, found with the interpreter's own ``ast`` and ``symtable`` (nothing of
edgewise's tree-sitter queries or import resolution is used here).

A use is a name that the symbol table says is global and that the module defines (a
function, class or module-level assignment) or imports from another module of the
library; ``self.x``/``cls.x`` naming a method of the enclosing class (or of a base class
in the same file); ``module.x`` and ``Class.x`` naming a definition of an imported module
or of a class.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MAX_HOPS = 3


@dataclass(frozen=True)
class Ref:
    start: int  # character columns on the line, 0-based
    end: int
    name: str
    file: Path
    line: int  # 0-based line of the definition's name
    kind: str


@dataclass
class LineRefs:
    file: Path
    line: int  # 0-based
    indent: int
    refs: list[Ref]


@dataclass
class ModuleInfo:
    path: Path
    defs: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (line, kind)
    classes: dict[str, dict[str, int]] = field(default_factory=dict)  # class -> method lines
    bases: dict[str, list[str]] = field(default_factory=dict)
    # local name -> ("module", path, None, None) | ("symbol", module path, name, submodule)
    imports: dict[str, tuple[str, Path | None, str | None, Path | None]] = field(
        default_factory=dict
    )
    wildcards: list[Path] = field(default_factory=list)


class Library:
    """The modules of one source tree (e.g. the standard library's Lib/)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def resolve(self, module: str | None, level: int, importer: Path) -> Path | None:
        parts = [p for p in (module or "").split(".") if p]
        if level:
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
        else:
            base = self.root
        target = base.joinpath(*parts)
        candidates = [target / "__init__.py"]
        if parts:
            candidates.insert(0, target.with_name(target.name + ".py"))
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        return None

    @lru_cache(maxsize=4096)  # noqa: B019 - one library per bench run
    def module(self, path: Path) -> ModuleInfo | None:
        try:
            tree = ast.parse(path.read_text("utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            return None
        info = ModuleInfo(path)
        self._scan(tree.body, info, path)
        return info

    def _scan(self, body: list[ast.stmt], info: ModuleInfo, path: Path) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                info.defs.setdefault(node.name, (node.lineno - 1, "function"))
            elif isinstance(node, ast.ClassDef):
                info.defs.setdefault(node.name, (node.lineno - 1, "class"))
                methods = info.classes.setdefault(node.name, {})
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        methods.setdefault(item.name, item.lineno - 1)
                info.bases[node.name] = [b.id for b in node.bases if isinstance(b, ast.Name)]
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        info.defs.setdefault(target.id, (target.lineno - 1, "constant"))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        target = self.resolve(alias.name, 0, path)
                        if target is not None:
                            info.imports[alias.asname] = ("module", target, None, None)
            elif isinstance(node, ast.ImportFrom):
                self._import_from(node, info, path)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in _blocks(node):
                    self._scan(block, info, path)

    def _import_from(self, node: ast.ImportFrom, info: ModuleInfo, path: Path) -> None:
        source = self.resolve(node.module, node.level, path)
        for alias in node.names:
            if alias.name == "*":
                if source is not None:
                    info.wildcards.append(source)
                continue
            local = alias.asname or alias.name
            sub = self.resolve(f"{node.module or ''}.{alias.name}".lstrip("."), node.level, path)
            if source is not None or sub is not None:
                info.imports[local] = ("symbol", source, alias.name, sub)

    def bound(self, info: ModuleInfo, name: str) -> tuple[str, Path] | None:
        """What an imported name is: ("symbol", its module) or ("module", the module)."""
        entry = info.imports.get(name)
        if entry is None:
            return None
        kind, path, imported, sub = entry
        if kind == "module" and path is not None:
            return "module", path
        module = self.module(path) if path is not None else None
        if (
            module is not None
            and imported is not None
            and (imported in module.defs or imported in module.imports or module.wildcards)
        ):
            return "symbol", path  # type: ignore[return-value]
        if sub is not None:
            return "module", sub
        return None

    def find(self, path: Path, name: str, hops: int = 0) -> tuple[Path, int, str] | None:
        """Where ``name`` of module ``path`` is defined, following re-exports."""
        info = self.module(path)
        if info is None:
            return None
        if name in info.defs:
            line, kind = info.defs[name]
            return path, line, kind
        if hops >= MAX_HOPS:
            return None
        bound = self.bound(info, name)
        if bound is not None and bound[0] == "symbol":
            imported = info.imports[name][2]
            return self.find(bound[1], imported or name, hops + 1)
        for source in info.wildcards:
            found = self.find(source, name, hops + 1)
            if found is not None:
                return found
        return None

    def method(self, path: Path, cls: str, name: str, hops: int = 0) -> tuple[Path, int] | None:
        info = self.module(path)
        if info is None or hops > MAX_HOPS:
            return None
        methods = info.classes.get(cls)
        if methods is None:
            found = self.find(path, cls)
            if found is not None and found[0] != path:
                return self.method(found[0], cls, name, hops + 1)
            return None
        if name in methods:
            return path, methods[name]
        for base in info.bases.get(cls, []):
            found = self.method(path, base, name, hops + 1)
            if found is not None:
                return found
        return None


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    blocks = [getattr(node, "body", []), getattr(node, "orelse", [])]
    blocks += [handler.body for handler in getattr(node, "handlers", [])]
    blocks.append(getattr(node, "finalbody", []))
    return blocks


def _function_tables(table: symtable.SymbolTable, out: dict[int, symtable.SymbolTable]) -> None:
    for child in table.get_children():
        if child.get_type() == "function":
            out[child.get_lineno()] = child
        _function_tables(child, out)


def _char_col(line_bytes: bytes, byte_col: int) -> int:
    return len(line_bytes[:byte_col].decode("utf-8", "replace"))


def line_refs(library: Library, path: Path) -> list[LineRefs]:
    """The lines inside function bodies of ``path`` that use library definitions."""
    path = path.resolve()
    text = path.read_text("utf-8")
    tree = ast.parse(text)
    module = library.module(path)
    if module is None:
        return []
    tables: dict[int, symtable.SymbolTable] = {}
    _function_tables(symtable.symtable(text, str(path), "exec"), tables)
    lines = text.splitlines()
    encoded = [line.encode("utf-8") for line in lines]
    found: dict[int, LineRefs] = {}

    def visit(node: ast.AST, function: ast.AST | None, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                owner = cls if isinstance(node, ast.ClassDef) else None
                visit(child, child, owner)
            elif isinstance(child, ast.ClassDef):
                visit(child, function, child.name)
            else:
                if function is not None:
                    use(child, function, cls)
                visit(child, function, cls)

    headers: set[int] = set()

    def use(node: ast.AST, function: ast.AST, cls: str | None) -> None:
        lineno = getattr(node, "lineno", None)
        if lineno is None or getattr(node, "end_lineno", None) != lineno:
            return
        row = lineno - 1
        ref: Ref | None = None
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            target = global_target(node.id, function)
            if target is not None:
                start = _char_col(encoded[row], node.col_offset)
                end = _char_col(encoded[row], node.end_col_offset or node.col_offset)
                ref = Ref(start, end, node.id, target[0], target[1], target[2])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = attribute_target(node.value.id, node.attr, function, cls)
            if target is not None:
                end = _char_col(encoded[row], node.end_col_offset or 0)
                ref = Ref(end - len(node.attr), end, node.attr, target[0], target[1], "method")
        if ref is not None and not (ref.file == path and ref.line == row):
            entry = found.setdefault(row, LineRefs(path, row, _indent(lines[row]), []))
            entry.refs.append(ref)

    def local(name: str, function: ast.AST) -> bool:
        table = tables.get(getattr(function, "lineno", -1))
        if table is None:
            return False
        try:
            symbol = table.lookup(name)
        except KeyError:
            return False
        return symbol.is_local() or symbol.is_free() or symbol.is_parameter()

    def global_target(name: str, function: ast.AST) -> tuple[Path, int, str] | None:
        if local(name, function):
            return None
        if name in module.defs:
            line, kind = module.defs[name]
            return path, line, kind
        bound = library.bound(module, name)
        if bound is not None and bound[0] == "symbol":
            return library.find(bound[1], module.imports[name][2] or name)
        for source in module.wildcards:
            hit = library.find(source, name, 1)
            if hit is not None:
                return hit
        return None

    def attribute_target(
        base: str, attr: str, function: ast.AST, cls: str | None
    ) -> tuple[Path, int] | None:
        if base in ("self", "cls") and cls is not None:
            return library.method(path, cls, attr)
        if local(base, function):
            return None
        bound = library.bound(module, base)
        if bound is not None and bound[0] == "module":
            hit = library.find(bound[1], attr)
            return (hit[0], hit[1]) if hit else None
        if base in module.classes:
            return library.method(path, base, attr)
        if bound is not None and bound[0] == "symbol":
            imported = module.imports[base][2] or base
            hit = library.find(bound[1], imported)
            if hit is not None and hit[2] == "class":
                return library.method(hit[0], imported, attr)
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            headers.update(range(node.lineno - 1, node.body[0].lineno - 1))
    visit(tree, None, None)
    out = []
    for row, entry in sorted(found.items()):
        stripped = lines[row].strip()
        if row in headers or not stripped or stripped.startswith(("#", '"', "'")):
            continue
        out.append(entry)
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))
