"""What an accepted suggestion's report says and where it stays, through a real LSP
client (pytest-lsp) and the tiny model: a text served again (type-through, result
cache) carries what the model call that made it cost; the report's diagnostic marks one
line where the generated text starts, reads how sure first, moves with edits, and goes
when the text is deleted or replaced; the suggestion follows the editor's selected
suggest item (LSP 3.18 ``selectedCompletionInfo``)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from edgewise.schemas import load_schema
from tests.lsp.conftest import SERVER, open_doc, start, tiny_options, wait_until
from tests.lsp.sample_files import PYTHON
from tests.lsp.test_foundation import edits_of

URI = "file:///work/project/files.py"
LINES = PYTHON.split("\n")
LINE = 4  # "    names = []": a complete statement, so a one-line suggestion


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tiny_model: Any):
    await start(lsp_client, "visual-studio-code", tiny_options(tiny_model))
    yield
    await lsp_client.shutdown_session()


def plain(value: Any) -> Any:
    """pygls hands unknown notifications' params over as named tuples: as JSON data."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class Editor:
    """One open document, edited as an editor does (incremental didChange)."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.lines = list(LINES)
        self.version = 1
        open_doc(client, URI, "python", PYTHON)

    def change(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=self.version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=types.Position(*start), end=types.Position(*end)),
                        text=text,
                    )
                ],
            )
        )
        whole = "\n".join(self.lines)
        offsets = [sum(len(x) + 1 for x in self.lines[:line]) + col for line, col in (start, end)]
        self.lines = (whole[: offsets[0]] + text + whole[offsets[1] :]).split("\n")

    def type(self, line: int, text: str) -> None:
        end = (line, len(self.lines[line]))
        self.change(end, end, text)

    async def suggest(
        self, line: int, selected: types.SelectedCompletionInfo | None = None
    ) -> types.InlineCompletionItem | None:
        result = await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=URI),
                position=types.Position(line, len(self.lines[line])),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic,
                    selected_completion_info=selected,
                ),
            )
        )
        return result.items[0] if result and result.items else None

    def last_status(self) -> dict[str, Any]:
        return plain(self.client.status_updates[-1])  # type: ignore[attr-defined,no-any-return]

    async def accept(self, item: types.InlineCompletionItem) -> None:
        """What the editor does on Tab: insert the text, then run the item's command."""
        assert item.range is not None and isinstance(item.insert_text, str)
        start, end = item.range.start, item.range.end
        self.change((start.line, start.character), (end.line, end.character), item.insert_text)
        assert item.command is not None
        await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=item.command.command, arguments=item.command.arguments
            )
        )

    async def marks(self, count: int | None = None) -> list[types.Diagnostic]:
        """The report diagnostics once ``count`` of them are published."""

        def found() -> list[types.Diagnostic] | None:
            shown = [
                d
                for d in self.client.diagnostics.get(URI, [])
                if d.source == "edgewise" and d.severity == types.DiagnosticSeverity.Information
            ]
            return shown if count is None or len(shown) == count else None

        return await wait_until(found)  # type: ignore[no-any-return]


async def test_a_typed_through_suggestion_reports_the_call_that_made_it(client: LanguageClient):
    editor = Editor(client)
    first = await editor.suggest(LINE)
    assert first is not None and isinstance(first.insert_text, str)
    text = first.insert_text
    assert len(text) >= 3 and "\n" not in text[:2], text
    made = editor.last_status()["last"]
    assert made["cache"] == "miss" and made["tokens"]["prompt"] > 0

    editor.type(LINE, text[:2])  # the first two characters of the ghost text
    rest = await editor.suggest(LINE)
    assert rest is not None and rest.insert_text == text[2:]
    assert editor.last_status()["last"]["cache"] == "type-through"
    await editor.accept(rest)

    (mark,) = await editor.marks(1)
    report = mark.data
    jsonschema.validate(report, load_schema("report"))
    assert report["cache"] == "type-through" and report["cached_from"] == made["id"]
    # this request cost nothing; the text on screen cost what the call that made it did
    assert report["tokens"]["prompt"] == report["tokens"]["completion"] == 0
    producer = report["produced_by"]
    assert producer["report"] == made["id"]
    # what the call cost (the file's whole count is not a cost)
    assert producer["tokens"] == {k: v for k, v in made["tokens"].items() if k != "whole_file"}
    assert producer["time_ms"]["total"] == made["time_ms"]["total"] > 0
    assert producer["cost"]["cloud_equivalent"] > 0
    tokens = made["tokens"]
    assert "typed through, no model call; made by a call of " in mark.message
    assert f"{tokens['prompt']} prompt + {tokens['completion']} generated tokens" in mark.message
    # the call is counted once in the session's totals
    totals = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )
    assert totals["session"]["tokens_prompt"] == tokens["prompt"]


async def test_a_cached_suggestion_reports_the_call_that_made_it(client: LanguageClient):
    editor = Editor(client)
    first = await editor.suggest(LINE)
    assert first is not None
    made = editor.last_status()["last"]
    editor.type(LINE, "#")  # something else: the model runs again ...
    await editor.suggest(LINE)
    editor.change((LINE, len(editor.lines[LINE]) - 1), (LINE, len(editor.lines[LINE])), "")
    again = await editor.suggest(LINE)  # ... and back: the same prompt, from the cache
    assert again is not None and again.insert_text == first.insert_text
    assert editor.last_status()["last"]["cache"] == "hit"
    await editor.accept(again)
    (mark,) = await editor.marks(1)
    assert mark.data["cache"] == "hit"
    assert mark.data["produced_by"]["tokens"] == {
        k: v for k, v in made["tokens"].items() if k != "whole_file"
    }
    assert "served again from the cache, no model call; made by a call of " in mark.message


async def test_the_mark_is_one_line_reads_how_sure_first_and_goes_with_its_text(
    client: LanguageClient,
):
    editor = Editor(client)
    item = await editor.suggest(LINE)
    assert item is not None and isinstance(item.insert_text, str)
    await editor.accept(item)
    (mark,) = await editor.marks(1)
    # how sure first, in plain words (the tiny model has no calibration map)
    assert mark.message.startswith("model's confidence: "), mark.message
    assert "(not calibrated)" in mark.message.split(" · ")[0]
    assert mark.message.index("confidence") < mark.message.index("prompt +")
    column = len(LINES[LINE])
    assert mark.range.start == types.Position(LINE, column)
    assert mark.range.end.line == LINE  # one line at most

    # a line added above: the mark moves down with its text
    editor.change((0, 0), (0, 0), "# header\n")
    (moved,) = await wait_until(lambda: editor_marks_at(client, LINE + 1))
    assert moved.range.start == types.Position(LINE + 1, column)

    # editing inside the text keeps it; deleting the line it is on removes it
    editor.change((LINE + 1, column + 1), (LINE + 1, column + 1), "x")
    await wait_until(lambda: editor_marks_at(client, LINE + 1))
    editor.change((LINE + 1, 0), (LINE + 2, 0), "")
    await wait_until(lambda: not editor_marks_at(client, None))
    # the ledger keeps the report
    totals = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.costReport")
    )
    assert totals["session"]["requests"] >= 1


def editor_marks_at(client: LanguageClient, line: int | None) -> list[types.Diagnostic]:
    return [
        d
        for d in client.diagnostics.get(URI, [])
        if d.source == "edgewise"
        and d.severity == types.DiagnosticSeverity.Information
        and (line is None or d.range.start.line == line)
    ]


async def test_a_docstrings_mark_is_its_first_line_and_goes_when_it_is_replaced(
    client: LanguageClient,
):
    editor = Editor(client)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            range=types.Range(start=types.Position(3, 6), end=types.Position(3, 6)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(
        a
        for a in actions or []
        if isinstance(a, types.CodeAction) and a.title.startswith("Add docstring")
    )
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    assert action.disabled is None and action.edit is not None, action.disabled
    (edit,) = edits_of(action, URI)
    docstring_lines = edit.new_text.count("\n")
    assert docstring_lines >= 1
    start = (edit.range.start.line, edit.range.start.character)
    editor.change(start, (edit.range.end.line, edit.range.end.character), edit.new_text)
    assert action.command is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )
    (mark,) = await editor.marks(1)
    assert mark.data["range"]["end"]["line"] > mark.data["range"]["start"]["line"]
    first_line = editor.lines[mark.range.start.line]
    assert first_line.strip().startswith('"""'), first_line
    assert mark.range.start.line == mark.range.end.line == 4  # one line, the first
    assert mark.range.end.character == len(first_line)

    # the whole docstring replaced by other text: its report diagnostic goes
    end = (4 + docstring_lines, 0)
    editor.change((4, 0), end, "    # listed by hand\n")
    await wait_until(lambda: not editor_marks_at(client, None))


async def test_the_suggestion_follows_the_selected_suggest_item(client: LanguageClient):
    """VS Code's suggest list open on `na` with `names` selected: the ghost text is
    `names` and what the model continues it with, replacing the typed `na`."""
    editor = Editor(client)
    line = 6  # the empty line in list_files' loop, 8 spaces
    editor.change((line, 8), (line, 8), "na")
    cursor = len(editor.lines[line])
    selected = types.SelectedCompletionInfo(
        range=types.Range(start=types.Position(line, cursor - 2), end=types.Position(line, cursor)),
        text="names",
    )
    item = await editor.suggest(line, selected)
    assert item is not None and isinstance(item.insert_text, str)
    assert item.range == selected.range
    assert item.insert_text.startswith("names") and len(item.insert_text) > len("names")
    # the model was asked to continue after `names`, not after `na`
    sent = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.lastPrompt")
    )
    assert "        names" in sent["text"]
    # ... while the server's copy of the document stays the editor's text
    state = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="edgewise.documentState", arguments=[URI])
    )
    assert state["parsed_sha256"] == state["sha256"]
    await editor.accept(item)
    (mark,) = await editor.marks(1)
    assert mark.range.start == types.Position(line, cursor - 2 + len("names"))


@pytest.mark.parametrize("snippet", ["names(${1:x})", "print($0)"])
async def test_a_snippet_item_is_not_continued(client: LanguageClient, snippet: str):
    editor = Editor(client)
    editor.change((6, 8), (6, 8), "na")
    cursor = len(editor.lines[6])
    selected = types.SelectedCompletionInfo(
        range=types.Range(start=types.Position(6, cursor - 2), end=types.Position(6, cursor)),
        text=snippet,
    )
    item = await editor.suggest(6, selected)
    # the suggestion is for the text as it is, at the cursor
    assert item is None or (item.range is not None and item.range.start.character == cursor)
