"""Commands that run an action outside the code-action menu:

- ``edgewise.rewrite`` ``{uri, range, instruction}``: the editor asks the user for the
  instruction; the server verifies the edit, sends it with ``workspace/applyEdit`` and
  then publishes its report diagnostic. A client that supports change annotations gets
  the edit annotated ``edgewise.preview`` with ``needsConfirmation``: it shows the
  change first and applies it only when the person accepts it.
- ``edgewise.explain`` ``{uri, range}``: no edit; the explanation is shown as a read-only
  document (``window/showDocument``) or, when the client cannot show documents, as a
  message, with its report either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from edgewise.actions.rewrite import MAX_INSTRUCTION
from edgewise.errors import ActionNotApplicable, EdgewiseError
from edgewise.lsp.command_ids import CMD_EXPLAIN, CMD_REWRITE
from edgewise.lsp.language_server import EdgewiseServer  # real: pygls reads the type hints
from edgewise.lsp.progress import run_with_progress
from edgewise.lsp.workspace_edits import wait_for_text, workspace_edit
from edgewise.paths import state_dir
from edgewise.private_files import narrow_file, private_dir, write_private
from edgewise.report.builder import summary

EXPLANATIONS_KEPT = 50
PREVIEW_LABEL_CHARS = 60


def _argument(args: tuple[Any, ...], command: str) -> dict[str, Any]:
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(f"{command} takes one argument: an object {{uri, range, ...}}")
    return args[0]


def _range(raw: Any, command: str) -> dict[str, dict[str, int]]:
    try:
        out = {
            end: {
                "line": int(raw[end]["line"]),
                "character": int(raw[end]["character"]),
            }
            for end in ("start", "end")
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise JsonRpcInvalidParams(
            f"{command}: 'range' must be an LSP range {{start, end}} of positions"
        ) from exc
    if any(v < 0 for pos in out.values() for v in pos.values()):
        raise JsonRpcInvalidParams(f"{command}: 'range' positions must not be negative")
    if (out["end"]["line"], out["end"]["character"]) < (
        out["start"]["line"],
        out["start"]["character"],
    ):
        raise JsonRpcInvalidParams(f"{command}: 'range' ends before it starts")
    return out


def _document(ls: EdgewiseServer, uri: Any, command: str) -> Any:
    if not isinstance(uri, str) or not ls.is_open(uri):
        raise JsonRpcInvalidParams(f"{command}: 'uri' must be a document open in the editor")
    return ls.workspace.get_text_document(uri)


def not_applied(
    reason: str, report: dict[str, Any] | None = None, *, told: bool = False
) -> dict[str, Any]:
    """The answer when nothing was applied: ``reason``, also as ``disabled.reason`` (the
    shape of a disabled code action, which editor plugins already show); ``told``: the
    server already showed the user a message saying so."""
    answer: dict[str, Any] = {"applied": False, "reason": reason, "disabled": {"reason": reason}}
    if report is not None:
        answer["report"] = report
    if told:
        answer["told"] = True
    return answer


async def rewrite(ls: EdgewiseServer, *args: Any) -> dict[str, Any]:
    """``edgewise.rewrite``: run, verify and apply a rewrite of the range."""
    params = _argument(args, CMD_REWRITE)
    doc = _document(ls, params.get("uri"), CMD_REWRITE)
    rng = _range(params.get("range"), CMD_REWRITE)
    instruction = params.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise JsonRpcInvalidParams(f"{CMD_REWRITE}: 'instruction' must be a non-empty string")
    if len(instruction) > MAX_INSTRUCTION:
        raise JsonRpcInvalidParams(
            f"{CMD_REWRITE}: 'instruction' is longer than {MAX_INSTRUCTION} characters"
        )
    data = {"action": "rewrite", "uri": doc.uri, "range": rng}
    try:
        result = await run_with_progress(
            ls, "Rewrite", data, doc.source, doc.language_id or "", instruction=instruction
        )
    except EdgewiseError as exc:
        ls.tell_error(exc)
        return not_applied(str(exc))
    report = result.report
    if result.disabled_reason is not None:
        told = ls.tell_error(ActionNotApplicable(f"rewrite not applied: {result.disabled_reason}"))
        return not_applied(result.disabled_reason, report, told=told)
    for file in result.files:
        if file.uri == doc.uri:
            file.version = doc.version
    label = preview_label(instruction)
    edit = workspace_edit(ls, result.files, preview=label)
    if isinstance(edit, str):
        return not_applied(edit, report)
    previewed = edit.change_annotations is not None
    answer = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=label)
    )
    if not answer.applied:
        reason = answer.failure_reason or (
            "the change was discarded in the preview"
            if previewed
            else "the editor did not apply the edit"
        )
        return not_applied(reason, report)
    await wait_for_text(ls, result.files[0].uri, result.files[0].after)
    ls.show_report(report["id"])
    return {"applied": True, "report": report}


def preview_label(instruction: str) -> str:
    """The preview's title: "edgewise: Rewrite: <the instruction>", on one short line."""
    text = " ".join(instruction.split())
    return f"edgewise: Rewrite: {text[: PREVIEW_LABEL_CHARS - 1] + '…' if len(text) > PREVIEW_LABEL_CHARS else text}"


async def explain(ls: EdgewiseServer, *args: Any) -> dict[str, Any]:
    """``edgewise.explain``: show an explanation of the range (no edit)."""
    params = _argument(args, CMD_EXPLAIN)
    doc = _document(ls, params.get("uri"), CMD_EXPLAIN)
    rng = _range(params.get("range"), CMD_EXPLAIN)
    data = {"action": "explain", "uri": doc.uri, "range": rng}
    try:
        result = await run_with_progress(ls, "Explain", data, doc.source, doc.language_id or "")
    except EdgewiseError as exc:
        ls.tell_error(exc)
        return {"shown": None, "reason": str(exc)}
    report = result.report
    if result.text is None:
        reason = result.disabled_reason or "no explanation"
        ls.tell_error(ActionNotApplicable(f"explain: {reason}"))
        return {"shown": None, "reason": reason, "report": report}
    shown = await show_explanation(ls, doc.uri, result.text, report)
    return {"shown": shown[0], "uri": shown[1], "text": result.text, "report": report}


def explanation_markdown(uri: str, text: str, report: dict[str, Any]) -> str:
    start = report["range"]["start"]["line"] + 1
    end = report["range"]["end"]["line"] + 1
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    if report.get("stop_reason") == "repeat":
        text += "\n\n(The model started repeating itself here; edgewise stopped it.)"
    return (
        f"# Explanation of {name}, lines {start}-{end}\n\n{text}\n\n---\n\n"
        f"{summary(report)}\n\nreport id: {report['id']} (written by the model; read-only)\n"
    )


def write_explanation(uri: str, text: str, report: dict[str, Any]) -> Path:
    """A read-only file in the state directory; the oldest beyond the last 50 go."""
    folder = private_dir(state_dir() / "explanations", top=state_dir())
    path = folder / f"explain-{report['id']}.md"
    write_private(path, explanation_markdown(uri, text, report), mode=0o400)
    old = sorted(folder.glob("explain-*.md"), key=lambda p: p.stat().st_mtime)
    for stale in old[:-EXPLANATIONS_KEPT]:
        stale.unlink(missing_ok=True)
    for kept in old[-EXPLANATIONS_KEPT:]:
        narrow_file(kept)  # written world-readable by an older version
    return path


async def show_explanation(
    ls: EdgewiseServer, uri: str, text: str, report: dict[str, Any]
) -> tuple[str, str | None]:
    """("document", uri) when the editor showed the read-only document, else
    ("message", None) after a window/showMessage."""
    caps = ls.client_capabilities
    window = caps.window if caps else None
    if window is not None and window.show_document is not None and window.show_document.support:
        try:
            path = write_explanation(uri, text, report)
            shown = await ls.window_show_document_async(
                types.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
            )
            if shown.success:
                return "document", path.as_uri()
        except OSError:
            pass
    ls.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Info, message=f"{text}\n\n{summary(report)}")
    )
    return "message", None
