"""Which files a batch run may touch.

Each PATH given on the command line is a root. A directory root is walked; inside a git
work tree the listing comes from git itself (tracked and untracked files, minus what
.gitignore and friends exclude), elsewhere .gitignore files are read with a small
matcher (patterns, ``!`` negation, trailing ``/``, ``**``). Every file is resolved
through its symlinks and refused when the real path leaves its root. A file named
directly on the command line is taken as named (it is its own root).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from edgewise import safe_read

# Dependency and cache folders that are never source to refactor.
ALWAYS_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox", ".mypy_cache"}
    | {".pytest_cache", ".ruff_cache"}
)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over ``/``-separated paths: ``**`` spans folders, ``*`` and ``?`` do not."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                out.append(re.escape("["))
                i += 1
            else:
                body = pattern[i + 1 : close].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


@dataclass(frozen=True)
class Glob:
    """--include / --exclude: without a ``/`` the pattern matches the file name at any
    depth; with one, it matches the path relative to the root."""

    pattern: str

    def matches(self, rel: str) -> bool:
        pattern = self.pattern.removeprefix("./")
        if "/" not in pattern.rstrip("/"):
            return bool(glob_regex(pattern).fullmatch(PurePosixPath(rel).name))
        return bool(glob_regex(pattern.lstrip("/")).fullmatch(rel))


@dataclass(frozen=True)
class IgnoreRule:
    base: str  # folder of the .gitignore, relative to the root ("" at the root)
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


class GitignoreMatcher:
    """The common subset of gitignore(5), for folders that are not in a git work tree."""

    def __init__(self) -> None:
        self.rules: list[IgnoreRule] = []

    def load(self, base: str, path: Path) -> None:
        try:
            lines = safe_read.read_bytes(path).decode("utf-8", "replace").splitlines()
        except OSError:
            return
        for raw in lines:
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            line = line.removeprefix("\\")
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if not line:
                continue
            anchored = "/" in line
            line = line.lstrip("/")
            regex = glob_regex(line if anchored else f"**/{line}")
            self.rules.append(IgnoreRule(base, regex, negated, dir_only))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        verdict = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.base:
                if not rel.startswith(rule.base + "/"):
                    continue
                sub = rel[len(rule.base) + 1 :]
            else:
                sub = rel
            if rule.regex.fullmatch(sub):
                verdict = not rule.negated
        return verdict


@dataclass(frozen=True)
class Candidate:
    path: Path  # real path
    display: str  # relative to the working directory when inside it
    rel: str  # relative to its root, for --include/--exclude


@dataclass
class Discovery:
    files: list[Candidate] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)  # {path, reason}


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return str(path)


def git_toplevel(folder: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def git_listing(folder: Path) -> list[str]:
    """Files under ``folder`` that git does not ignore, relative to it."""
    out = subprocess.run(
        ["git", "-C", str(folder), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        timeout=300,
        check=True,
    )
    names = [n for n in out.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    return sorted(set(names))


def ignore_top(folder: Path) -> Path:
    """The highest folder whose .gitignore applies to ``folder``: its ancestors up to the
    first one that holds a ``.git`` (a repository git is not there to read), or up to
    the filesystem root, the highest one that has a .gitignore."""
    top = folder
    for parent in [folder, *folder.parents]:
        if (parent / ".gitignore").is_file():
            top = parent
        if (parent / ".git").exists():
            break
    return top


def walk_listing(folder: Path) -> list[str]:
    """Files under ``folder`` that the .gitignore files (its own, below and above it) do
    not exclude, relative to it."""
    matcher = GitignoreMatcher()
    top = ignore_top(folder)
    lead = folder.relative_to(top).as_posix()
    lead = "" if lead == "." else lead
    above = [p for p in folder.parents if p == top or top in p.parents]
    for parent in reversed(above):  # the .gitignore files above the root, outermost first
        base = parent.relative_to(top).as_posix()
        matcher.load("" if base == "." else base, parent / ".gitignore")

    def under_top(rel: str) -> str:
        return f"{lead}/{rel}" if lead else rel

    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):  # does not follow folder symlinks
        here = Path(dirpath)
        base = here.relative_to(folder).as_posix()
        base = "" if base == "." else base
        if ".gitignore" in filenames:
            matcher.load(under_top(base), here / ".gitignore")
        keep = []
        for name in sorted(dirnames):
            rel = f"{base}/{name}" if base else name
            if name in ALWAYS_SKIPPED_DIRS or matcher.ignored(under_top(rel), True):
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = f"{base}/{name}" if base else name
            if not matcher.ignored(under_top(rel), False):
                found.append(rel)
    return found


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def discover(
    roots: Iterable[Path],
    include: list[str],
    exclude: list[str],
    cwd: Path,
) -> Discovery:
    """Candidate files under the roots, in a stable order, each once."""
    result = Discovery()
    seen: set[Path] = set()
    includes = [Glob(p) for p in include]
    excludes = [Glob(p) for p in exclude]

    def consider(given: Path, root: Path, rel: str) -> None:
        if any(part in ALWAYS_SKIPPED_DIRS for part in PurePosixPath(rel).parts[:-1]):
            return
        if includes and not any(g.matches(rel) for g in includes):
            return
        if any(g.matches(rel) for g in excludes):
            return
        real = given.resolve()
        if not inside(real, root):
            result.refused.append(
                {
                    "path": display_path(given, cwd),
                    "reason": f"resolves to {real}, outside the root {root}",
                }
            )
            return
        if not real.is_file() or real in seen:
            return
        seen.add(real)
        result.files.append(Candidate(real, display_path(given, cwd), rel))

    for given_root in roots:
        root = given_root.resolve()
        if given_root.is_file() or (root.is_file() and not given_root.is_dir()):
            # a file named on the command line is its own root
            consider(given_root, root, given_root.name)
            continue
        for rel in _listing(root):
            consider(given_root / rel, root, rel)
    return result


def _listing(root: Path) -> Iterator[str]:
    if git_toplevel(root) is not None:
        try:
            yield from git_listing(root)
            return
        except (OSError, subprocess.SubprocessError):
            pass
    yield from walk_listing(root)
