"""The batch mode's parts on their own: line endings, atomic writes, ignore rules, targets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from edgewise.actions.catalog import get_action
from edgewise.batch.diffs import unified_diff
from edgewise.batch.discovery import GitignoreMatcher, Glob, discover
from edgewise.batch.replace import NotReplaced, Replacement, backup_path
from edgewise.batch.sources import (
    Edit,
    NotText,
    SourceFile,
    apply_edits,
    overlaps,
)
from edgewise.batch.targets import find_targets, finder, qualified_name
from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry


def source(tmp_path: Path, data: bytes, name: str = "m.py") -> SourceFile:
    path = tmp_path / name
    path.write_bytes(data)
    return SourceFile.read(path, name)


def test_crlf_file_edits_land_between_the_same_bytes(tmp_path: Path):
    data = b"def f():\r\n    return 1\r\n"
    src = source(tmp_path, data)
    assert src.lf_text == "def f():\n    return 1\n" and src.newline == "\r\n"
    body = src.lf_text.index("    return")
    out = src.apply([Edit(body, body, '    """One."""\n')])
    assert out.encode() == b'def f():\r\n    """One."""\r\n    return 1\r\n'


def test_mixed_line_endings_keep_every_byte_outside_the_edit(tmp_path: Path):
    data = b"a = 1\r\nb = 2\nc = 3\r\n\r\nd = 4"
    src = source(tmp_path, data)
    at = src.lf_text.index("c = 3")
    out = src.apply([Edit(at, at, "x = 0\n")]).encode()
    assert out == b"a = 1\r\nb = 2\nx = 0\r\nc = 3\r\n\r\nd = 4"  # CRLF is the majority
    # an insertion right before a line's end goes before its CR, not between CR and LF
    end_of_b = src.lf_text.index("\nc")
    end_of_a = src.lf_text.index("\nb")
    out = src.apply([Edit(end_of_a, end_of_a, "  # a"), Edit(end_of_b, end_of_b, "  # b")])
    assert out.encode() == b"a = 1  # a\r\nb = 2  # b\nc = 3\r\n\r\nd = 4"


def test_edits_overlap_only_when_they_cannot_both_apply():
    replace = Edit(10, 20, "x")
    assert overlaps(replace, Edit(15, 25, "y"))
    assert overlaps(replace, Edit(12, 12, "inside"))  # an insertion inside a replacement
    assert not overlaps(replace, Edit(20, 20, "after"))  # touching is fine
    assert not overlaps(replace, Edit(10, 10, "before"))
    assert not overlaps(Edit(5, 5, "a"), Edit(5, 5, "b"))  # two insertions at one point


def test_insertions_at_one_point_keep_their_order():
    text = "0123456789"
    edits = [Edit(5, 5, "A"), Edit(2, 4, "r"), Edit(5, 5, "B"), Edit(0, 0, "^")]
    assert apply_edits(text, edits) == "^01r4AB56789"


def test_binary_and_non_utf8_files_are_not_text(tmp_path: Path):
    with pytest.raises(NotText, match="binary"):
        source(tmp_path, b"x = 1\x00")
    with pytest.raises(NotText, match="not UTF-8"):
        source(tmp_path, b"name = '\xe9t\xe9'\n")


def test_a_replacement_keeps_the_mode_and_leaves_no_temporary_file(tmp_path: Path):
    path = tmp_path / "tool.py"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o754)
    replacement = Replacement.make(path, b"old\n", b"new\n", backup_path(path, "run1"))
    assert replacement.settle(keep=True).state == "kept"
    assert path.read_bytes() == b"new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o754
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tool.py"]


def test_undoing_a_replacement_puts_the_original_inode_back(tmp_path: Path):
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\n")
    inode = path.stat().st_ino
    replacement = Replacement.make(path, b"x = 1\n", b"x = 2\n", backup_path(path, "r"))
    assert path.read_bytes() == b"x = 2\n"
    assert replacement.settle(keep=False).state == "restored"
    assert path.read_bytes() == b"x = 1\n" and path.stat().st_ino == inode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def test_a_file_that_changed_is_not_replaced(tmp_path: Path):
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 3\n")
    with pytest.raises(NotReplaced, match="changed on disk"):
        Replacement.make(path, b"x = 1\n", b"x = 2\n", backup_path(path, "r"))
    assert path.read_bytes() == b"x = 3\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("*.py", "pkg/deep/mod.py", True),
        ("*.py", "pkg/mod.pyi", False),
        ("src/*.ts", "src/a.ts", True),
        ("src/*.ts", "src/lib/a.ts", False),
        ("src/**/*.ts", "src/lib/x/a.ts", True),
        ("src/**/*.ts", "src/a.ts", True),
        ("**/test_*.py", "tests/unit/test_cli.py", True),
        ("test_?.py", "test_a.py", True),
        ("[ab].py", "c.py", False),
    ],
)
def test_globs(pattern: str, path: str, expected: bool):
    assert Glob(pattern).matches(path) is expected


def test_gitignore_matcher_follows_the_common_rules(tmp_path: Path):
    (tmp_path / ".gitignore").write_text("build/\n*.log\n!keep.log\n/root_only.py\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("local.py\n")
    matcher = GitignoreMatcher()
    matcher.load("", tmp_path / ".gitignore")
    matcher.load("sub", tmp_path / "sub" / ".gitignore")
    assert matcher.ignored("build", True) and not matcher.ignored("build", False)
    assert matcher.ignored("a/b/c.log", False) and not matcher.ignored("a/keep.log", False)
    assert matcher.ignored("root_only.py", False)
    assert not matcher.ignored("pkg/root_only.py", False)
    assert matcher.ignored("sub/local.py", False) and not matcher.ignored("local.py", False)


def test_discovery_walks_without_git_and_skips_dependency_folders(tmp_path: Path):
    (tmp_path / ".gitignore").write_text("gen/\n")
    for name in ("a.py", "gen/b.py", "node_modules/m/c.js", ".venv/lib/d.py", "pkg/e.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    found = discover([tmp_path], [], ["pkg/*"], tmp_path)
    assert [c.rel for c in found.files] == [".gitignore", "a.py"]


def test_discovery_below_the_top_reads_the_gitignore_files_above(tmp_path: Path):
    for name in ("web/src/a.ts", "web/src/a.gen.ts", "web/src/old/b.ts", "web/src/tmp.ts"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("let x = 1;\n")
    (tmp_path / ".gitignore").write_text("*.gen.ts\nweb/src/old/\n")
    (tmp_path / "web" / ".gitignore").write_text("/src/tmp.ts\n")
    found = discover([tmp_path / "web" / "src"], [], [], tmp_path)
    assert [c.rel for c in found.files] == ["a.ts"]


def test_unified_diff_marks_a_missing_final_newline():
    diff = unified_diff("a\nb", "a\nc", "f.py")
    assert diff.startswith("--- a/f.py\n+++ b/f.py\n")
    assert "-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n" in diff
    assert unified_diff("same", "same", "f.py") == ""


def test_targets_are_every_undocumented_scope_with_qualified_unique_names():
    text = (
        "class A:\n"
        "    def f(self):\n        return 1\n\n"
        "    def g(self):\n        '''Documented.'''\n        return 2\n\n"
        "def helper():\n    def inner():\n        return 3\n    return inner\n\n"
        "def helper():\n    return 4\n"
    )
    doc = DocumentStore(LanguageRegistry()).open("file:///t.py", text)
    spec = get_action("docstring")
    assert spec is not None
    found = find_targets(doc, spec)
    assert [t.symbol for t in found] == ["A", "A.f", "helper", "helper.inner", "helper#2"]
    find = finder(spec)  # the engine finds each target again from its own range
    assert all(find(doc, t.start_byte, t.end_byte) == t.target for t in found)


def test_a_scope_is_named_through_its_export_and_its_enclosing_scopes():
    text = "export function top(): void {}\nclass K {\n  m(): void {}\n}\n"
    doc = DocumentStore(LanguageRegistry()).open("file:///t.ts", text)
    assert doc.tree is not None
    root = doc.tree.root_node
    export, klass = root.named_children[0], root.named_children[1]
    method = klass.child_by_field_name("body").named_children[0]
    assert [qualified_name(n) for n in (export, klass, method, root)] == [
        "top", "K", "K.m", "<module>",
    ]  # fmt: skip


def test_typescript_targets_skip_documented_exports():
    text = (
        "/** Documented. */\nexport function a(): number {\n  return 1;\n}\n\n"
        "export function b(): number {\n  return 2;\n}\n\n"
        "export const c = (x: number): number => {\n  return x;\n};\n\n"
        "class K {\n  /**\n   * Documented.\n   */\n  m(): void {}\n\n  n(): void {}\n}\n"
    )
    doc = DocumentStore(LanguageRegistry()).open("file:///t.ts", text)
    spec = get_action("docstring")
    assert spec is not None
    assert [t.symbol for t in find_targets(doc, spec)] == ["b", "c", "K", "K.n"]
