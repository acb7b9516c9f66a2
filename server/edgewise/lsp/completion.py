"""Completions: ``textDocument/inlineCompletion`` and ``textDocument/completion``, both
debounced, superseded by a newer request for the same document, and cancellable."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument

from edgewise.context.positions import Pos, end_after_insert
from edgewise.engine import Completion
from edgewise.errors import EdgewiseError
from edgewise.lsp.command_ids import CMD_INLINE_ACCEPTED
from edgewise.lsp.language_server import EdgewiseServer
from edgewise.lsp.parse_scheduling import PARSE_BUDGET_S
from edgewise.lsp.transport import RECEIVED_AT
from edgewise.report.builder import summary

log = logging.getLogger(__name__)

SNIPPET_SYNTAX = re.compile(r"\$(\d|\{)")  # a tab stop or placeholder: a snippet's text
QUIET_AFTER_PREPARE = 0.03  # seconds: lets input sent during a long preparation arrive
# asyncio's timers fire up to a millisecond late (epoll waits in whole milliseconds,
# rounded up; measured: the debounce ended 1.0 ms late at p50): the wait is set to end
# this much early, so it ends on time rather than after
TIMER_SLACK = 0.001
# reports being logged after their answer went out
LOGGING: set[asyncio.Future[None]] = set()
INLINE_OPTIONS = types.InlineCompletionOptions()
COMPLETION_OPTIONS = types.CompletionOptions(
    trigger_characters=[".", "(", " "], resolve_provider=False
)


async def inline_completion(
    ls: EdgewiseServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    """With ``context.selectedCompletionInfo`` (the editor's suggest list is open with an
    item selected), the suggestion continues the text as if that item were accepted,
    and the answer replaces the item's range with the item and the continuation: the
    editor then shows the ghost text along with its list (VS Code shows only ghost
    text that extends the selected item)."""
    context = params.context
    selected = context.selected_completion_info if context is not None else None
    if selected is not None and not usable_selection(selected, params.position):
        selected = None
    completion = await completion_at(
        ls, params.text_document.uri, params.position, "inline", selected
    )
    if completion is None:
        return types.InlineCompletionList(items=[])
    start = completion.report["range"]["start"]
    position = types.Position(line=start["line"], character=start["character"])
    replaced = types.Range(start=position, end=position)
    text = completion.text
    if selected is not None:
        replaced, text = selected.range, selected.text + text
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(
                insert_text=text,
                range=replaced,
                command=accepted_command(completion.report),
            )
        ]
    )


def usable_selection(selected: types.SelectedCompletionInfo, cursor: types.Position) -> bool:
    """A selected item the suggestion can continue: it ends at the cursor, on one line,
    and is plain text (a snippet's text is not what it inserts)."""
    rng = selected.range
    return (
        rng.end == cursor
        and rng.start.line == rng.end.line
        and "\n" not in selected.text
        and SNIPPET_SYNTAX.search(selected.text) is None
    )


def with_selection(
    doc: TextDocument, selected: types.SelectedCompletionInfo, encoding: str
) -> tuple[str, Pos]:
    """The document's text with the selected item in place, and the position after it."""
    start = doc.offset_at_position(selected.range.start)
    end = max(doc.offset_at_position(selected.range.end), start)
    source = doc.source
    text = source[:start] + selected.text + source[end:]
    begin = Pos(selected.range.start.line, selected.range.start.character)
    return text, end_after_insert(begin, selected.text, encoding)


async def completion(ls: EdgewiseServer, params: types.CompletionParams) -> types.CompletionList:
    result = await completion_at(ls, params.text_document.uri, params.position, "completion")
    if result is None:
        return types.CompletionList(is_incomplete=True, items=[])
    first = result.text.split("\n", 1)[0].strip() or result.text.strip()
    score = result.report["confidence"]["score"]
    start = result.report["range"]["start"]
    position = types.Position(line=start["line"], character=start["character"])
    return types.CompletionList(
        is_incomplete=True,
        items=[
            types.CompletionItem(
                label=first[:60],
                kind=types.CompletionItemKind.Snippet,
                detail=f"edgewise · confidence {score:.2f}" if score is not None else "edgewise",
                documentation=summary(result.report),
                text_edit=types.TextEdit(
                    range=types.Range(start=position, end=position), new_text=result.text
                ),
                insert_text_format=types.InsertTextFormat.PlainText,
                filter_text=first,
                sort_text="0",
                command=accepted_command(result.report),
            )
        ],
    )


def accepted_command(report: dict[str, Any]) -> types.Command:
    return types.Command(
        title="edgewise: completion accepted", command=CMD_INLINE_ACCEPTED, arguments=[report["id"]]
    )


async def completion_at(
    ls: EdgewiseServer,
    uri: str,
    position: types.Position,
    action: str,
    selected: types.SelectedCompletionInfo | None = None,
) -> Completion | None:
    """Debounced, superseding, cancellable completion; None when there is nothing to
    show, and always None for a position that is no longer current (a newer request
    for the document, or an edit, came in meanwhile). With ``typingOptimizations``
    off, every request runs the model to the end and is answered (the baseline)."""
    if not ls.is_open(uri):
        return None  # only documents the client opened
    if ls.engine.budget.blocked() is not None:  # paused at a budget's limit: no model run
        ls.status("idle" if not ls.busy else "busy")
        return None
    loop = asyncio.get_running_loop()
    received = RECEIVED_AT.get()
    arrived = min(received, loop.time()) if received is not None else loop.time()
    doc = ls.workspace.get_text_document(uri)
    version = doc.version
    engine = ls.engine
    optimize = engine.typing_optimizations
    pos = Pos(position.line, position.character)
    text = doc.source
    if selected is not None:  # as if the editor's selected suggest item were accepted
        text, pos = with_selection(doc, selected, engine.position_encoding)
    previous = ls.completing.get(uri)
    if previous is not None and optimize:
        previous.set()  # a newer request supersedes it: stop between tokens
    cancel = threading.Event()
    ls.completing[uri] = cancel
    quick = engine.type_through(uri, text, pos, action) if optimize else None
    if quick is not None:  # the rest of the suggestion showing: no model call
        if ls.completing.get(uri) is cancel:
            del ls.completing[uri]
        return answer(ls, uri, quick)
    engine.host.yield_prefill()  # the model's cores for this request, not a prefill
    try:
        if engine.settings.debounce_ms and optimize:
            await prepare_during_debounce(ls, uri, text, doc.language_id, pos, arrived)
        if optimize and (cancel.is_set() or not ls.parses.is_current(uri, doc, version)):
            return None
        ls.collector.hold_until_answered()
        with ls.working():
            result = await engine.complete(
                uri, text, pos, doc.language_id, action, cancel, defer_log=True, cold_cut=True
            )
    except EdgewiseError as exc:
        ls.tell_error(exc)
        return None
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # $/cancelRequest from the client
            cancel.set()
            raise
        return None  # superseded before the model ran: an empty answer
    except Exception as exc:  # a failure inside the model worker: say it, keep serving
        log.exception("completion failed")
        ls.tell_error(EdgewiseError(f"completion failed: {type(exc).__name__}: {exc}"))
        return None
    finally:
        if ls.completing.get(uri) is cancel:
            del ls.completing[uri]
        if selected is not None and ls.is_open(uri):  # the engine's text: the editor's again
            engine.documents.sync(uri, ls.workspace.get_text_document(uri).source, doc.language_id)
        ls.parses.schedule_idle_parse(uri, version)
        # freed memory back to the system, once the answer is on its way
        asyncio.get_running_loop().call_later(0.05, ls.memory.trim)
    ls.tell_notes()
    if optimize and (cancel.is_set() or not ls.parses.is_current(uri, doc, version)):
        await result.logged()
        engine.session.outcome(result.report["id"], "superseded")
        ls.status("idle" if not ls.busy else "busy", result.report)
        return None  # stale: never show text for a position that has moved on
    if result.cut_cold:  # the whole context, for the next request here, once the cursor rests
        ls.parses.schedule_prefill(uri, pos)
    return answer(ls, uri, result)


async def prepare_during_debounce(
    ls: EdgewiseServer, uri: str, text: str, language_id: str | None, pos: Pos, arrived: float
) -> None:
    """Wait ``debounceMs`` from the request's arrival (loop time ``arrived``: what was
    done since, reading its didChange and the request itself, is part of the wait),
    parsing and choosing the context meanwhile (the work is done while the user
    pauses, not after; a newer keystroke makes it moot).
    A re-parse that does not fit in the debounce (or did not fit last time) is left
    for a pause in typing, and the context is chosen on the previous tree with the
    edits applied (the report's context notes say so).
    A preparation that outlasts the debounce is followed by a short quiet time, so
    keystrokes sent meanwhile are read (and supersede this request) before the model
    is asked."""
    loop = asyncio.get_running_loop()
    debounce = ls.engine.settings.debounce_ms / 1000.0
    until = arrived + debounce
    try:
        parsed = ls.engine.documents.sync(uri, text, language_id)
        if parsed.parse_pending and not parsed.parse_timed_out:
            # what the debounce leaves, less the quiet time that follows a preparation
            # that outlasts it
            left = until - loop.time() - QUIET_AFTER_PREPARE
            parsed.advance_parse(max(left, PARSE_BUDGET_S))
        ls.engine.prepare(uri, text, pos, language_id)
    except Exception:  # complete() meets the same problem and says it
        log.debug("preparing a completion failed", exc_info=True)
    quiet = min(debounce, QUIET_AFTER_PREPARE)
    await asyncio.sleep(max(until - TIMER_SLACK - loop.time(), quiet))


def answer(ls: EdgewiseServer, uri: str, result: Completion) -> Completion | None:
    """What the editor is answered; the report is logged and the status sent once the
    answer is on its way (after the request's task ends, when there is one): a keystroke's
    answer does not wait for the ledger's write or the status notification."""

    async def log_and_tell() -> None:
        try:
            await result.logged()
        except Exception:  # the answer is out; the report's logging failed: say so in the log
            log.exception("logging a completion's report failed")
        ls.status("idle" if not ls.busy else "busy", result.report)

    def after_answer(_: object = None) -> None:
        logging_task = asyncio.ensure_future(log_and_tell())
        LOGGING.add(logging_task)  # held until done (the loop keeps only weak references)
        logging_task.add_done_callback(LOGGING.discard)

    task = asyncio.current_task()
    if task is None:
        after_answer()
    else:  # done callbacks run in order: pygls' own, which sends the answer, is first
        task.add_done_callback(after_answer)
    if result.hidden or not result.text:
        ls.engine.shown.forget(uri)
        return None
    if result.shown is not None:
        ls.engine.shown.remember(uri, result.shown)
    return result
