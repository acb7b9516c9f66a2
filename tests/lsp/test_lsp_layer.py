"""The shape of the LSP layer: its modules import one another without a circle (counting
imports inside functions and under TYPE_CHECKING), pygls' private names are touched in
pygls_hooks.py only, and handlers are registered in server.py only."""

from __future__ import annotations

import ast
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol
from pygls.workspace import TextDocument, Workspace

import edgewise.lsp

LSP = Path(edgewise.lsp.__file__).parent
MODULES = {f"edgewise.lsp.{path.stem}": path for path in LSP.glob("*.py")}


def tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text())


def lsp_imports(module: str) -> set[str]:
    """The edgewise.lsp modules ``module`` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in MODULES)
    return found - {module}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_no_import_circle_among_lsp_modules() -> None:
    graph = {module: lsp_imports(module) for module in MODULES}
    assert "edgewise.lsp.language_server" in graph["edgewise.lsp.completion"]  # sanity
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def pygls_private_names() -> set[str]:
    """Private attribute and method names of pygls' server, protocol, workspace and
    document, on the classes and on instances."""
    server = LanguageServer("names", "0")
    objects: list[object] = [
        server,
        server.protocol,
        Workspace(None),
        TextDocument("file:///x", source="", sync_kind=types.TextDocumentSyncKind.Incremental),
    ]
    names: set[str] = set()
    for obj in objects:
        names |= set(vars(obj))
        names |= {n for cls in type(obj).__mro__ for n in vars(cls)}
    for cls in (JsonRPCProtocol, LanguageServerProtocol):
        names |= set(vars(cls))
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def test_pygls_private_names_are_used_in_pygls_hooks_only() -> None:
    private = pygls_private_names()
    assert {"_workspace", "_send_data", "_source"} <= private  # sanity
    offences: list[str] = []
    for module, path in MODULES.items():
        if module == "edgewise.lsp.pygls_hooks":
            continue
        for node in ast.walk(tree(module)):
            if isinstance(node, ast.Attribute) and node.attr in private:
                offences.append(f"{path.name}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.FunctionDef) and node.name in private:
                offences.append(f"{path.name}:{node.lineno} def {node.name}")
            elif (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("pygls")
                and any(alias.name.startswith("_") for alias in node.names)
            ):
                offences.append(f"{path.name}:{node.lineno} import from {node.module}")
    assert offences == []


def test_handlers_are_registered_in_server_py_only() -> None:
    registering = {
        module
        for module in MODULES
        for node in ast.walk(tree(module))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("feature", "command")
    }
    assert registering == {"edgewise.lsp.server"}
