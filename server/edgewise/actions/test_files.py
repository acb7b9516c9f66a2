"""The project's test-file convention: where the test of a source file lives (or will),
how it is named, and which framework its tests use. Read from the files of the
workspace folder, never guessed from outside it."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edgewise import safe_read

SKIP_DIRS = {
    ".git",
    ".hg",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    "dist",
    "build",
    ".next",
    "coverage",
}
MAX_FILES = 20000
MAX_MANIFEST_BYTES = 1024 * 1024
JS_EXTS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
JS_TEST = re.compile(r"^(?P<stem>.+)\.(?P<style>test|spec)\.(?:[mc]?[jt]sx?)$")


@dataclass(frozen=True)
class TestFileChoice:
    path: Path
    exists: bool
    framework: str  # pytest | vitest | jest | mocha | node:test
    reason: str  # how the convention was found (for the report)


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in files:
            found.append(Path(folder) / name)
            if len(found) >= MAX_FILES:
                return found
    return found


def _python_tests(files: list[Path]) -> list[Path]:
    return [
        f
        for f in files
        if f.suffix == ".py" and (f.name.startswith("test_") or f.stem.endswith("_test"))
    ]


def python_test_file(root: Path, source: Path) -> TestFileChoice:
    files = _walk(root)
    tests = _python_tests(files)
    stem = source.stem
    same = [t for t in tests if t.name in (f"test_{stem}.py", f"{stem}_test.py")]
    if same:
        best = min(same, key=lambda t: (len(t.relative_to(root).parts), str(t)))
        return TestFileChoice(best, True, "pytest", f"appends to the existing {best.name}")
    suffix_style = sum(t.stem.endswith("_test") for t in tests) > len(tests) / 2
    name = f"{stem}_test.py" if suffix_style else f"test_{stem}.py"
    for folder in _ancestors(source.parent, root):
        for candidate in ("tests", "test"):
            if (folder / candidate).is_dir():
                return TestFileChoice(
                    folder / candidate / name, False, "pytest", f"new file in {candidate}/"
                )
    return TestFileChoice(source.parent / name, False, "pytest", "new file next to the source")


def _ancestors(folder: Path, root: Path) -> list[Path]:
    out = []
    current = folder
    while True:
        out.append(current)
        if current == root or current.parent == current:
            return out
        current = current.parent


def js_framework(root: Path, source: Path) -> str:
    for folder in _ancestors(source.parent, root):
        manifest = folder / "package.json"
        if not manifest.is_file():
            continue
        try:
            package = json.loads(safe_read.read_text(manifest, MAX_MANIFEST_BYTES))
        except (OSError, ValueError):
            continue
        deps: set[str] = set()
        for key in ("dependencies", "devDependencies", "peerDependencies"):
            value = package.get(key) if isinstance(package, dict) else None
            if isinstance(value, dict):
                deps.update(value)
        for framework in ("vitest", "jest", "mocha"):
            if framework in deps or (framework == "jest" and "ts-jest" in deps):
                return framework
        return "node:test"
    return "node:test"


def js_test_file(root: Path, source: Path) -> TestFileChoice:
    files = _walk(root)
    framework = js_framework(root, source)
    stem = source.name.split(".")[0]
    matches = [f for f in files if (m := JS_TEST.match(f.name)) and m.group("stem") == stem]
    in_dunder = [
        f
        for f in files
        if f.parent.name == "__tests__" and f.name.split(".")[0] == stem and f.suffix in JS_EXTS
    ]
    same = matches + in_dunder
    if same:
        best = min(same, key=lambda f: (f.parent != source.parent, len(f.parts), str(f)))
        return TestFileChoice(best, True, framework, f"appends to the existing {best.name}")
    styles = Counter(m.group("style") for f in files if (m := JS_TEST.match(f.name)))
    style = "spec" if styles["spec"] > styles["test"] else "test"
    name = f"{stem}.{style}{source.suffix}"
    if any(f.parent.name == "__tests__" for f in files):
        return TestFileChoice(
            source.parent / "__tests__" / name, False, framework, "new file in __tests__/"
        )
    return TestFileChoice(source.parent / name, False, framework, "new file next to the source")
