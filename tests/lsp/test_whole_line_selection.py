"""A selection of whole lines (from column 0, as ``V`` in Neovim or a line-wise selection
in VS Code) means the definitions in them: selecting a method that way offers what the
cursor on it offers (docstring, types, test), not only Explain and Simplify; and the
docstring goes into that method. Real LSP client, real llama.cpp on the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.action_checks import actions_at, check_applies, resolved, titled
from tests.lsp.conftest import SERVER, tiny_options
from tests.lsp.editor import Editor, make_workspace, start_editor

DOCSTRING = "Add docstring (edgewise)"
ON_METHOD = {
    DOCSTRING,
    "Add type annotations (edgewise)",
    "Generate a unit test (edgewise)",
    "Simplify (edgewise)",
    "Explain (edgewise)",
}


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tiny_model: Path, tmp_path: Path):
    root = make_workspace(tmp_path / "project")
    options = tiny_options(tiny_model, threads=1)
    lsp_client.editor = await start_editor(lsp_client, "neovim", options, root)  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_whole_lines_of_a_method_offer_what_the_method_offers(client: LanguageClient):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    lines = editor.text(uri).splitlines()
    assert lines[17] == "    def scale(self, factor):" and lines[20] == "        return self"
    on_cursor = {a.title for a in await actions_at(client, uri, 17, 8)}
    assert on_cursor == ON_METHOD
    # Neovim's V: from column 0 to the end of the last line; VS Code's line-wise
    # selection: to column 0 of the line after it
    for end in ((20, len(lines[20])), (21, 0)):
        actions = await actions_at(client, uri, 17, 0, end=end)
        assert {a.title for a in actions} == ON_METHOD, end
    # the docstring goes into the method (below its def line), as with the cursor on it
    actions = await actions_at(client, uri, 17, 0, end=(21, 0))
    after = check_applies(
        editor, await resolved(client, titled(actions, DOCSTRING)), uri, "python", (18, 18)
    )
    assert after.splitlines()[18].startswith('        """'), after.splitlines()[17:20]
    # several methods in the lines: the class around them, as the cursor range does
    both = {a.title for a in await actions_at(client, uri, 13, 0, end=(21, 0))}
    assert DOCSTRING in both and "Explain (edgewise)" in both


async def test_a_selection_inside_a_line_is_kept_as_it_is(client: LanguageClient):
    editor: Editor = client.editor  # type: ignore[attr-defined]
    uri = editor.open("geometry.py", "python")
    # `width * height` inside `area`: the function around it, nothing narrowed
    actions = await actions_at(client, uri, 4, 11, end=(4, 25))
    titles = {a.title for a in actions}
    assert DOCSTRING in titles
    explain = titled(actions, "Explain (edgewise)")
    assert explain.command is not None
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=explain.command.command, arguments=explain.command.arguments
        )
    )
    assert result["report"]["range"]["start"] == {"line": 4, "character": 0}
