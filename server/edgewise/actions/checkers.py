"""The checkers gate: the edited file, checked with the tools the workspace already uses,
before and after the edit.

Each tool reads the text on stdin (ruff, ESLint), from a temporary shadow copy (mypy's
``--shadow-file``, pyright on a copy beside nothing of the workspace), or through the
project's own TypeScript compiler with the text handed to it in memory (tsc). Nothing
from the edit is executed, and nothing in the workspace is written. Every run has a
deadline; a tool that is missing, not configured, failing or too slow is reported as
such and judged without. Results are cached by the hash of what determines them
(tool, executable, version, configuration, path and text).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edgewise.paths import cache_dir
from edgewise.report.record import CheckRun, Problem

CACHE_ENTRIES = 512
OUTPUT_LIMIT = 4 * 1024 * 1024
SHOWN_PROBLEMS = 5  # new problems named in a reason (all are in the report)

PYTHON_TOOLS = ("ruff", "mypy", "pyright")
JS_TOOLS = ("eslint", "tsc")
LANGUAGES = {
    "ruff": frozenset({"python"}),
    "mypy": frozenset({"python"}),
    "pyright": frozenset({"python"}),
    "eslint": frozenset({"javascript", "typescript", "tsx"}),
    "tsc": frozenset({"typescript", "tsx"}),
}
PYTHON_CONFIGS = ("pyproject.toml", "ruff.toml", ".ruff.toml", "setup.cfg", "mypy.ini")
ESLINT_CONFIGS = (
    "eslint.config.js",
    "eslint.config.mjs",
    "eslint.config.cjs",
    "eslint.config.ts",
    ".eslintrc",
    ".eslintrc.js",
    ".eslintrc.cjs",
    ".eslintrc.json",
    ".eslintrc.yml",
    ".eslintrc.yaml",
)
MYPY_LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?:\d+:)? (?P<level>error|note|warning): (?P<msg>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)

# The TypeScript compiler, run from the project's own node_modules, with the edited text
# given to it in memory (tsc itself cannot read a file's text from stdin).
TSC_SCRIPT = r"""
const path = require('path');
const [root, file] = process.argv.slice(1);
const ts = require(require.resolve('typescript', { paths: [root] }));
const text = require('fs').readFileSync(0, 'utf8');
const target = path.resolve(file);
const configPath = ts.findConfigFile(path.dirname(target), ts.sys.fileExists, 'tsconfig.json');
let options = { noEmit: true, allowJs: true };
if (configPath) {
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(read.config || {}, ts.sys, path.dirname(configPath));
  options = { ...parsed.options, noEmit: true };
}
const host = ts.createCompilerHost(options);
const getSourceFile = host.getSourceFile.bind(host);
host.getSourceFile = (name, language, onError, create) =>
  path.resolve(name) === target
    ? ts.createSourceFile(name, text, language, true)
    : getSourceFile(name, language, onError, create);
const fileExists = host.fileExists.bind(host);
host.fileExists = (name) => path.resolve(name) === target || fileExists(name);
const readFile = host.readFile.bind(host);
host.readFile = (name) => (path.resolve(name) === target ? text : readFile(name));
const program = ts.createProgram([target], options, host);
const source = program.getSourceFile(target);
const found = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
process.stdout.write(JSON.stringify(found.map((d) => ({
  line: d.start === undefined ? 1 : source.getLineAndCharacterOfPosition(d.start).line + 1,
  rule: 'TS' + d.code,
  message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
}))));
"""


def describe(tool: str, problem: Problem) -> str:
    return f"line {problem.line}: {problem.rule} {problem.message} ({tool})"


@dataclass(frozen=True)
class CheckOutcome:
    runs: tuple[CheckRun, ...] = ()

    @property
    def new_problems(self) -> list[tuple[str, Problem]]:
        return [(run.tool, p) for run in self.runs for p in run.new]

    @property
    def problem(self) -> str | None:
        """Why the edit must not be offered (the new problems, with line and rule)."""
        found = self.new_problems
        if not found:
            return None
        shown = "; ".join(describe(tool, p) for tool, p in found[:SHOWN_PROBLEMS])
        more = f"; and {len(found) - SHOWN_PROBLEMS} more" if len(found) > SHOWN_PROBLEMS else ""
        return f"the project's checkers report {len(found)} new problem(s): {shown}{more}"

    def summary(self) -> str:
        """What ran and what could not, in one phrase (for the report's reason)."""
        ran = [r.tool for r in self.runs if r.status == "ran"]
        not_run = [f"{r.tool} {r.status}" for r in self.runs if r.status != "ran"]
        parts = []
        if ran:
            parts.append("checked with " + ", ".join(ran))
        if not_run:
            parts.append("not run: " + ", ".join(not_run))
        return "; ".join(parts)


class ToolFailed(Exception):
    """The checker ran but gave no usable answer (the message says what it said)."""


class TimedOut(Exception):
    pass


@dataclass(frozen=True)
class Found:
    """A checker located for one file: how to start it, where, and what it depends on."""

    argv: tuple[str, ...]
    cwd: Path
    version: str
    fingerprint: str  # of the configuration files that shape its answer


@dataclass
class Checkers:
    """The gate's state: located tools' versions and the results cache."""

    cache: OrderedDict[str, tuple[Problem, ...]] = field(default_factory=OrderedDict)
    versions: dict[str, str] = field(default_factory=dict)
    runs: int = 0  # checker processes started (the cache's saving shows against it)

    async def check(
        self,
        path: Path | None,
        root: Path | None,
        language: str | None,
        before: str,
        after: str,
        tools: Sequence[str],
        timeout_s: float,
    ) -> CheckOutcome:
        """Every configured tool for the language, on ``before`` and ``after``."""
        if language is None or path is None:
            return CheckOutcome()
        wanted = [t for t in tools if language in LANGUAGES.get(t, frozenset())]
        runs = await asyncio.gather(
            *(self._one(t, path, root, before, after, timeout_s) for t in wanted)
        )
        return CheckOutcome(tuple(runs))

    async def _one(
        self, tool: str, path: Path, root: Path | None, before: str, after: str, timeout_s: float
    ) -> CheckRun:
        started = time.monotonic()
        where = root or path.parent
        found_or_why = await asyncio.to_thread(self.locate, tool, path, where)
        if isinstance(found_or_why, CheckRun):
            return found_or_why
        found = found_or_why
        try:
            old, old_cached = await self.problems(tool, found, path, before, timeout_s)
            new, new_cached = await self.problems(tool, found, path, after, timeout_s)
        except TimedOut:
            ms = (time.monotonic() - started) * 1000
            detail = f"no answer within {timeout_s * 1000:.0f} ms"
            return CheckRun(tool, "timed-out", found.version, ms, detail=detail)
        except (ToolFailed, OSError) as exc:
            ms = (time.monotonic() - started) * 1000
            return CheckRun(tool, "failed", found.version, ms, detail=str(exc)[:500])
        added = Counter(p.key for p in new) - Counter(p.key for p in old)
        fresh: list[Problem] = []
        for problem in new:
            if added[problem.key] > 0:
                added[problem.key] -= 1
                fresh.append(problem)
        ms = (time.monotonic() - started) * 1000
        return CheckRun(
            tool,
            "ran",
            found.version,
            ms,
            len(old),
            len(new),
            fresh,
            cached=old_cached and new_cached,
        )

    # --- finding the tools -------------------------------------------------------------

    def locate(self, tool: str, path: Path, root: Path) -> Found | CheckRun:
        """The tool as this file's project would run it, or the run saying why not."""
        if tool == "ruff":
            exe = python_tool("ruff", path, root)
            if exe is None:
                return CheckRun(
                    tool,
                    "not-installed",
                    detail="no ruff in the project's env, PATH or edgewise's env",
                )
            return self.found(tool, (str(exe),), root, python_configs(path, root))
        if tool == "mypy":
            config = mypy_config(path, root)
            if config is None:
                return CheckRun(
                    tool, "not-configured", detail="no mypy.ini, [tool.mypy] or [mypy] in setup.cfg"
                )
            exe = python_tool("mypy", path, root)
            if exe is None:
                return CheckRun(tool, "not-installed", detail="configured, but no mypy found")
            return self.found(tool, (str(exe),), config.parent, python_configs(path, root))
        if tool == "pyright":
            config = pyright_config(path, root)
            if config is None:
                return CheckRun(
                    tool, "not-configured", detail="no pyrightconfig.json or [tool.pyright]"
                )
            exe = python_tool("pyright", path, root) or node_tool("pyright", path, root)
            if exe is None:
                return CheckRun(tool, "not-installed", detail="configured, but no pyright found")
            return self.found(tool, (str(exe),), config.parent, python_configs(path, root))
        if tool == "eslint":
            exe = node_tool("eslint", path, root)
            if exe is None:
                return CheckRun(
                    tool, "not-installed", detail="no node_modules/.bin/eslint in the project"
                )
            configs = [
                c for d in ancestors(path.parent, root) for c in (d / n for n in ESLINT_CONFIGS)
            ]
            return self.found(tool, (str(exe),), root, [c for c in configs if c.is_file()])
        if tool == "tsc":
            package = node_package("typescript", path, root)
            node = shutil.which("node")
            if package is None:
                why = "no node_modules/typescript in the project"
                return CheckRun(tool, "not-installed", detail=why)
            if node is None:
                return CheckRun(tool, "not-installed", detail="no node on PATH")
            configs = [d / "tsconfig.json" for d in ancestors(path.parent, root)]
            version = package_version(package)
            return Found(
                (node, "-e", TSC_SCRIPT, str(root)),
                root,
                version,
                fingerprint([c for c in configs if c.is_file()]),
            )
        return CheckRun(tool, "not-installed", detail=f"unknown checker {tool}")

    def found(self, tool: str, argv: tuple[str, ...], cwd: Path, configs: list[Path]) -> Found:
        exe = argv[0]
        if exe not in self.versions:
            self.versions[exe] = tool_version(tool, exe)
        return Found(argv, cwd, self.versions[exe], fingerprint(configs))

    # --- running them ------------------------------------------------------------------

    async def problems(
        self, tool: str, found: Found, path: Path, text: str, timeout_s: float
    ) -> tuple[tuple[Problem, ...], bool]:
        """The tool's problems in ``text`` as the file at ``path`` (cached by content)."""
        key = hashlib.sha256(
            "\0".join(
                (tool, *found.argv, found.version, found.fingerprint, str(path), text)
            ).encode("utf-8", "surrogatepass")
        ).hexdigest()
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key], True
        self.runs += 1
        result = tuple(await RUNNERS[tool](found, path, text, timeout_s))
        self.cache[key] = result
        while len(self.cache) > CACHE_ENTRIES:
            self.cache.popitem(last=False)
        return result, False


async def run_tool(
    argv: Sequence[str], cwd: Path, stdin: str, timeout_s: float, ok_codes: Sequence[int] = (0, 1)
) -> str:
    """Run one checker process (its own process group: killed whole past the deadline)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(
            process.communicate(stdin.encode("utf-8", "surrogatepass")), timeout_s
        )
    except (TimeoutError, asyncio.CancelledError) as exc:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.shield(process.wait())
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise TimedOut() from None
    if process.returncode not in ok_codes:
        said = (err or out).decode("utf-8", "replace").strip().splitlines()
        raise ToolFailed(f"exit {process.returncode}: {' '.join(said[-3:])}"[:500])
    return out[:OUTPUT_LIMIT].decode("utf-8", "replace")


async def run_ruff(found: Found, path: Path, text: str, timeout_s: float) -> list[Problem]:
    argv = [
        *found.argv,
        "check",
        "--select",
        "F",
        "--output-format",
        "json",
        "--no-cache",
        "--no-fix",
        "--stdin-filename",
        str(path),
        "-",
    ]
    out = await run_tool(argv, found.cwd, text, timeout_s)
    try:
        items = json.loads(out or "[]")
    except ValueError as exc:
        raise ToolFailed(f"unreadable output: {out[:200]}") from exc
    return [
        Problem(
            int((i.get("location") or {}).get("row") or 1),
            str(i.get("code") or "syntax"),
            str(i.get("message", "")),
        )
        for i in items
        if isinstance(i, dict)
    ]


async def run_mypy(found: Found, path: Path, text: str, timeout_s: float) -> list[Problem]:
    """The text as the file at ``path`` (``--shadow-file``); a file the edit creates
    (none on disk to shadow) is checked as a temporary copy of the same name."""
    with tempfile.TemporaryDirectory(prefix="edgewise-mypy-") as folder:
        shadow = Path(folder) / path.name
        shadow.write_text(text, "utf-8", newline="")
        checked = path if path.exists() else shadow
        shadowing = ["--shadow-file", str(path), str(shadow)] if checked == path else []
        argv = [
            *found.argv,
            *shadowing,
            "--no-error-summary",
            "--show-error-codes",
            "--no-color-output",
            "--hide-error-context",
            "--no-pretty",
            "--follow-imports",
            "silent",
            "--cache-dir",
            str(cache_dir() / "mypy" / hashlib.sha256(str(found.cwd).encode()).hexdigest()[:16]),
            str(checked),
        ]
        out = await run_tool(argv, found.cwd, "", timeout_s)
    problems = []
    for line in out.splitlines():
        match = MYPY_LINE.match(line)
        if match is None or match["level"] != "error":
            continue
        if Path(found.cwd, match["file"]).resolve() != checked.resolve():
            continue
        problems.append(Problem(int(match["line"]), match["code"] or "mypy", match["msg"]))
    return problems


async def run_pyright(found: Found, path: Path, text: str, timeout_s: float) -> list[Problem]:
    """pyright reads files only from disk: a temporary copy of the text, named as the
    file, checked with the project's configuration (imports resolve from the project)."""
    with tempfile.TemporaryDirectory(prefix="edgewise-pyright-") as folder:
        copy = Path(folder) / path.name
        copy.write_text(text, "utf-8", newline="")
        argv = [*found.argv, "--outputjson", str(copy)]
        out = await run_tool(argv, found.cwd, "", timeout_s)
    try:
        data = json.loads(out)
    except ValueError as exc:
        raise ToolFailed(f"unreadable output: {out[:200]}") from exc
    return [
        Problem(
            int(d.get("range", {}).get("start", {}).get("line", 0)) + 1,
            str(d.get("rule") or "pyright"),
            str(d.get("message", "")),
        )
        for d in data.get("generalDiagnostics", [])
        if d.get("severity") == "error"
    ]


async def run_eslint(found: Found, path: Path, text: str, timeout_s: float) -> list[Problem]:
    argv = [*found.argv, "--stdin", "--stdin-filename", str(path), "--format", "json"]
    out = await run_tool(argv, found.cwd, text, timeout_s)
    try:
        results = json.loads(out or "[]")
    except ValueError as exc:
        raise ToolFailed(f"unreadable output: {out[:200]}") from exc
    problems = []
    for result in results:
        for m in result.get("messages", []):
            rule = m.get("ruleId") or ("syntax" if m.get("fatal") else None)
            if rule is None:  # "File ignored because …": not a problem of the code
                continue
            problems.append(Problem(int(m.get("line") or 1), str(rule), str(m.get("message", ""))))
    return problems


async def run_tsc(found: Found, path: Path, text: str, timeout_s: float) -> list[Problem]:
    out = await run_tool([*found.argv, str(path)], found.cwd, text, timeout_s, ok_codes=(0,))
    try:
        items = json.loads(out or "[]")
    except ValueError as exc:
        raise ToolFailed(f"unreadable output: {out[:200]}") from exc
    return [Problem(int(i["line"]), str(i["rule"]), str(i["message"])) for i in items]


RUNNERS = {
    "ruff": run_ruff,
    "mypy": run_mypy,
    "pyright": run_pyright,
    "eslint": run_eslint,
    "tsc": run_tsc,
}


# --- where the tools and their configuration are --------------------------------------


def ancestors(folder: Path, root: Path) -> list[Path]:
    """``folder`` and its parents up to ``root`` (only ``folder`` when outside it)."""
    found = [folder]
    try:
        folder.relative_to(root)
    except ValueError:
        return found
    current = folder
    while current != root and current.parent != current:
        current = current.parent
        found.append(current)
    return found


def python_tool(name: str, path: Path, root: Path) -> Path | None:
    """``name`` from the project's virtual environment (.venv, venv, env), then the
    active one ($VIRTUAL_ENV), then PATH, then edgewise's own environment."""
    scripts = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    places = [
        d / env / scripts for d in ancestors(path.parent, root) for env in (".venv", "venv", "env")
    ]
    active = os.environ.get("VIRTUAL_ENV")
    if active:
        places.append(Path(active) / scripts)
    for place in places:
        candidate = place / f"{name}{suffix}"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    own = Path(sys.executable).parent / f"{name}{suffix}"
    return own if own.is_file() and os.access(own, os.X_OK) else None


def node_tool(name: str, path: Path, root: Path) -> Path | None:
    """``node_modules/.bin/name`` in the file's folder or one above it in the workspace."""
    for folder in ancestors(path.parent, root):
        candidate = folder / "node_modules" / ".bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def node_package(name: str, path: Path, root: Path) -> Path | None:
    for folder in ancestors(path.parent, root):
        candidate = folder / "node_modules" / name / "package.json"
        if candidate.is_file():
            return candidate
    return None


def package_version(package_json: Path) -> str:
    try:
        return str(json.loads(package_json.read_text("utf-8")).get("version", ""))
    except (OSError, ValueError):
        return ""


def python_configs(path: Path, root: Path) -> list[Path]:
    return [
        d / name
        for d in ancestors(path.parent, root)
        for name in PYTHON_CONFIGS
        if (d / name).is_file()
    ]


def _has_section(file: Path, section: str) -> bool:
    try:
        return any(line.strip() == section for line in file.read_text("utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


def mypy_config(path: Path, root: Path) -> Path | None:
    """The project's mypy configuration file, when it has one."""
    for folder in ancestors(path.parent, root):
        for name in ("mypy.ini", ".mypy.ini"):
            if (folder / name).is_file():
                return folder / name
        if _has_section(folder / "pyproject.toml", "[tool.mypy]"):
            return folder / "pyproject.toml"
        if _has_section(folder / "setup.cfg", "[mypy]"):
            return folder / "setup.cfg"
    return None


def pyright_config(path: Path, root: Path) -> Path | None:
    for folder in ancestors(path.parent, root):
        if (folder / "pyrightconfig.json").is_file():
            return folder / "pyrightconfig.json"
        if _has_section(folder / "pyproject.toml", "[tool.pyright]"):
            return folder / "pyproject.toml"
    return None


def fingerprint(configs: list[Path]) -> str:
    """What the configuration files are now (their contents), so that a changed
    configuration is not answered from the cache."""
    digest = hashlib.sha256()
    for config in configs:
        digest.update(str(config).encode("utf-8", "surrogatepass"))
        with contextlib.suppress(OSError):
            digest.update(config.read_bytes()[:1_000_000])
    return digest.hexdigest()


def tool_version(tool: str, exe: str) -> str:
    """The version the tool reports (read once per executable)."""
    if tool == "eslint":
        package = Path(exe).resolve().parents[1] / "package.json"
        if package.is_file():
            return package_version(package)
    import subprocess

    try:
        done = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].strip() if first else ""
