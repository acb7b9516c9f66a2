"""Generate a unit test for a function, into the project's test file: appended to the
existing one, or in a new file created where the project keeps its tests."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from tree_sitter import Node

from edgewise.actions.base import ActionContext, Plan, Rendered, RenderError, Target
from edgewise.actions.codeblock import code_reply, fence, fence_stop
from edgewise.actions.imports import has_import_of, import_offset
from edgewise.actions.regions import (
    CLASS_TYPES,
    function_node,
    innermost_definition,
    kind_of,
    name_of,
    node_text,
)
from edgewise.actions.safe_fill import js_specifier_problem, module_name_problem
from edgewise.actions.test_files import TestFileChoice, js_test_file, python_test_file
from edgewise.context.documents import ParsedDocument
from edgewise.context.languages import LanguageInfo

TEST_NAME = re.compile(r"^(test_|_?test$)|(_test|\.test|\.spec)$")


def uri_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def _owner_class(node: Node) -> Node | None:
    """The class a method belongs to, when that class is at the top of the module."""
    parent = node.parent
    while parent is not None and parent.type not in CLASS_TYPES:
        parent = parent.parent
    return parent


def _top_level(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in ("decorated_definition", "export_statement"):
        parent = parent.parent
    return parent is not None and parent.type in ("module", "program")


def _exported(node: Node, doc: ParsedDocument) -> bool:
    if doc.language is not None and doc.language.name == "python":
        return True
    if "module.exports" in doc.text or re.search(r"\bexports\.\w+\s*=", doc.text):
        return True  # CommonJS: exported by assignment
    parent = node.parent
    return parent is not None and parent.type == "export_statement"


def _subject(doc: ParsedDocument, start_byte: int, end_byte: int) -> tuple[Node, str, str] | None:
    """(definition, name the test imports, name the test calls) of the function there."""
    definition = innermost_definition(doc, start_byte, end_byte, classes=False)
    if definition is None:
        return None
    name = name_of(definition)
    if not name or TEST_NAME.search(name):
        return None
    if kind_of(function_node(definition)) == "method":
        owner = _owner_class(definition)
        if owner is None or not _top_level(owner) or not _exported(owner, doc):
            return None
        owner_name = name_of(owner)
        return definition, owner_name, f"{owner_name}.{name}"
    if not _top_level(definition) or not _exported(definition, doc):
        return None
    return definition, name, name


def find_test(ctx: ActionContext) -> Target | None:
    doc = ctx.doc
    if doc.language is None or doc.language.name not in (
        "python",
        "javascript",
        "typescript",
        "tsx",
    ):
        return None
    path = uri_path(doc.uri)
    if path is None or TEST_NAME.search(path.stem) or ctx.workspace.root_of(path) is None:
        return None
    subject = _subject(doc, ctx.start_byte, ctx.end_byte)
    if subject is None:
        return None
    node, imported, called = subject
    return Target(
        node.start_byte,
        node.end_byte,
        node_text(node),
        kind_of(function_node(node)),
        {"imported": imported, "called": called},
        name_of(node),
    )


def _python_module(source: Path, root: Path) -> str:
    """Dotted module path of a source file, from the top of its package."""
    parts = [source.stem]
    folder = source.parent
    while folder != root and (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def _js_specifier(source: Path, test: Path) -> str:
    relative = os.path.relpath(source, test.parent).replace(os.sep, "/")
    if source.suffix in (".ts", ".tsx", ".mts", ".cts"):
        relative = str(PurePosixPath(relative).with_suffix(""))
    return relative if relative.startswith(".") else f"./{relative}"


def _unique(text: str, name: str) -> str:
    candidate, number = name, 2
    while re.search(rf"^\s*(async\s+)?def\s+{re.escape(candidate)}\s*\(", text, re.M):
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _framework_imports(framework: str, commonjs: bool) -> list[str]:
    if framework == "vitest":
        return ['import { expect, test } from "vitest";']
    if framework in ("jest", "mocha"):
        return [] if framework == "jest" else ['import assert from "node:assert/strict";']
    if commonjs:
        return [
            'const { test } = require("node:test");',
            'const assert = require("node:assert/strict");',
        ]
    return ['import { test } from "node:test";', 'import assert from "node:assert/strict";']


def plan_test(ctx: ActionContext, target: Target) -> Plan | None:
    doc = ctx.doc
    language = doc.language
    source = uri_path(doc.uri)
    root = ctx.workspace.root_of(source) if source is not None else None
    if language is None or source is None or root is None:
        return None
    python = language.name == "python"
    choice: TestFileChoice = (python_test_file if python else js_test_file)(root, source.resolve())
    test_path = choice.path
    if ctx.workspace.root_of(test_path) is None:
        raise RenderError(f"the test file {test_path} would be outside the workspace folders")
    existing = ctx.workspace.read(test_path) if choice.exists else None
    if choice.exists and existing is None:
        raise RenderError(f"cannot read the test file {test_path}")
    base = existing.text if existing is not None else ""
    imported, called = target.fields["imported"], target.fields["called"]
    commonjs = not python and "require(" in doc.text and "import " not in doc.text
    if python:
        module = _python_module(source, root)
        problem = module_name_problem(module) or module_name_problem(imported)
        if problem is not None:
            raise RenderError(f"the test cannot import the function: {problem}")
        subject_import = f"from {module} import {imported}"
        header = [subject_import]
        test_name = _unique(base, "test_" + re.sub(r"\W+", "_", called).lower())
        prefill = fence("python") + f"def {test_name}():\n    "
        framework_hint = "pytest (plain assert statements)"
    else:
        specifier = _js_specifier(source, test_path)
        problem = js_specifier_problem(specifier)
        if problem is not None:
            raise RenderError(f"the test cannot import the function: {problem}")
        default = re.search(
            rf"export\s+default\s+(async\s+)?(function|class)\s+{imported}\b", doc.text
        )
        if commonjs:
            subject_import = f'const {{ {imported} }} = require("{specifier}");'
        elif default:
            subject_import = f'import {imported} from "{specifier}";'
        else:
            subject_import = f'import {{ {imported} }} from "{specifier}";'
        header = [*_framework_imports(choice.framework, commonjs), subject_import]
        test_name = called
        opener = "it" if choice.framework == "mocha" else "test"
        prefill = fence(language.name) + f'{opener}("{test_name}", () => {{\n  '
        framework_hint = {
            "vitest": "vitest (expect)",
            "jest": "jest (expect)",
            "mocha": "mocha with node:assert",
        }.get(choice.framework, "node:test with node:assert")
    python_blank = "\n\n" if python else "\n"

    def render(reply: str) -> Rendered:
        code = code_reply(reply, "", "    " if python else "  ")
        if not re.search(rf"(def {re.escape(test_name)}\(|\b(it|test)\()", code):
            raise RenderError("the model's reply had no test")
        if existing is None:
            return Rendered("\n".join(header) + "\n" + python_blank + code + "\n")
        missing = [line for line in header if not _imports_already(base, line, language)]
        if not base.strip():
            separator = ""
        elif base.endswith("\n\n") or base.endswith("\r\n\r\n"):
            separator = "\n" if python else ""
        elif base.endswith("\n"):
            separator = python_blank
        else:
            separator = "\n" + python_blank
        return Rendered(separator + code + "\n", "".join(line + "\n" for line in missing))

    at = len(base)
    imports_at = import_offset(base, language.parser().parse(base.encode()), language.name)
    return Plan(
        at,
        at,
        render,
        stop=fence_stop(),
        prefill=prefill,
        import_offset=imports_at if existing is not None else None,
        uri=test_path.as_uri(),
        base_text=base,
        version=existing.version if existing is not None else None,
        create=existing is None,
        language=language,
        fields={
            "test_file": test_path.name,
            "framework": framework_hint,
            "import_line": subject_import,
            "convention": choice.reason,
        },
    )


def _imports_already(text: str, line: str, language: LanguageInfo) -> bool:
    """Whether the test file already imports what ``line`` would import."""
    if line in text:
        return True
    found = re.match(
        r"\s*(?:from\s+\S+\s+import|import|const)\s+\{?\s*([\w$, ]+?)\s*\}?\s*(?:from\b|=|$)", line
    )
    names = [n.strip() for n in found.group(1).split(",") if n.strip()] if found else []
    return bool(names) and all(has_import_of(language, text, name) for name in names)
