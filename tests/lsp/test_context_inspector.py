"""`edgewise context FILE --line L --column C` shows exactly what the server sends for a
completion at that position (``edgewise.lastPrompt``): same text, same token count, same
pieces, the same budget left in the model's context. A real LSP client and the CLI on
the same file, model and settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.action_checks import last_prompt
from tests.lsp.conftest import SERVER, tiny_options
from tests.lsp.editor import Editor, start_editor

LINE, COLUMN = 118, 8  # 0-based: inside the last function, after its first line


def long_module() -> str:
    """Well over the 1024-token budget, so the prompt is cut where the budget says."""
    parts = ["import math\n\n"]
    for n in range(30):
        parts.append(
            f"def shape_{n}(width, height, depth={n}):\n"
            f"    area = width * height + {n}\n"
            f"    return math.sqrt(area * depth)\n\n\n"
        )
    return "".join(parts)


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tiny_model: Path, tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "shapes.py").write_text(long_module(), "utf-8")
    options = tiny_options(tiny_model)
    lsp_client.options = options  # type: ignore[attr-defined]
    lsp_client.editor = await start_editor(lsp_client, "neovim", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_the_inspector_shows_what_the_server_sent(client: LanguageClient, tmp_path: Path):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("shapes.py", "python")
    lines = editor.text(uri).splitlines()
    assert lines[LINE - 1].startswith("def shape_") and len(lines) > LINE
    await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=LINE, character=COLUMN),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    sent = await last_prompt(client)
    assert sent["kind"] == "completion" and sent["prompt_tokens"] > 447

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(client.options), "utf-8")  # type: ignore[attr-defined]
    result = subprocess.run(
        [
            sys.executable, "-m", "edgewise.cli", "context", str(editor.root / "shapes.py"),
            "--line", str(LINE + 1), "--column", str(COLUMN + 1),
            "--settings", str(settings), "--root", str(editor.root), "--json",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["prompt_tokens"] == sent["prompt_tokens"]
    assert shown["text"] == sent["text"]
    assert shown["pieces"] == sent["pieces"] and shown["format"] == sent["format"]
    assert shown["heal_prefix"] == sent["heal_prefix"]
    assert not any("lowered" in note for note in shown["notes"]), shown["notes"]

    plain = subprocess.run(
        [
            sys.executable, "-m", "edgewise.cli", "context", str(editor.root / "shapes.py"),
            "--line", str(LINE + 1), "--column", str(COLUMN + 1),
            "--settings", str(settings), "--root", str(editor.root),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith(f"{sent['prompt_tokens']} of 1024 tokens, fim prompt")
