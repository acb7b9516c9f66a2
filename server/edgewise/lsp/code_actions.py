"""Model code actions: listed cheaply, their edits computed lazily on resolve (with
cancellable work-done progress), each with its report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from edgewise.context.positions import Pos
from edgewise.errors import ActionNotApplicable, EdgewiseError
from edgewise.lsp.command_ids import CMD_APPLY_ACTION, CMD_EXPLAIN, CMD_REPORT_APPLIED
from edgewise.lsp.diagnostics import SOURCE
from edgewise.lsp.language_server import EdgewiseServer
from edgewise.lsp.progress import run_with_progress
from edgewise.lsp.workspace_edits import wait_for_text, workspace_edit, workspace_view

CODE_ACTION_KINDS = [
    types.CodeActionKind.RefactorRewrite,
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.Refactor,
]
OPTIONS = types.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=True)


def disabled_support(ls: EdgewiseServer) -> bool:
    caps = ls.client_capabilities
    action = caps.text_document.code_action if caps and caps.text_document else None
    return bool(action and action.disabled_support)


def disable(
    ls: EdgewiseServer,
    action: types.CodeAction,
    reason: str,
    told: bool = False,
    picked: bool = True,
) -> types.CodeAction:
    """Mark the action disabled and say why in a message (not when the error was
    ``told`` already): an action the person ``picked`` that comes back disabled shows
    nothing in the editors (VS Code and Neovim apply what a resolved action carries and
    ignore its reason), and a client without disabled actions cannot show a reason at
    all. An action resolved only to fill a list (``picked`` False) shows its reason
    there."""
    action.disabled = types.CodeActionDisabled(reason=reason)
    action.edit = None
    if not told and (picked or not disabled_support(ls)):
        problem = ActionNotApplicable(f"{action.title}: {reason}" if action.title else reason)
        ls.tell_error(problem, once=not picked)
    return action


async def resolve_action(
    ls: EdgewiseServer, action: types.CodeAction, picked: bool = True
) -> types.CodeAction:
    """``codeAction/resolve``: the action's edit, computed now (a model run); ``picked``:
    the person chose it (False: resolved while listing, for a client that cannot
    resolve later)."""
    data: dict[str, Any] = action.data or {}
    if data.get("action") == "explain":
        return action  # runs when its command is executed
    uri = data.get("uri", "")
    refusal = ls.guard.refusal(uri, ls.is_open(uri))
    if refusal is not None:
        return disable(ls, action, f"edgewise will not edit this: {refusal}", picked=picked)
    try:
        doc = ls.workspace.get_text_document(uri)
        if doc.version is not None and data.get("version") not in (None, doc.version):
            return disable(ls, action, "the document changed; ask again", picked=picked)
        result = await run_with_progress(
            ls,
            action.title,
            data,
            doc.source,
            doc.language_id or "",
            diagnostic=data.get("diagnostic"),
        )
    except EdgewiseError as exc:
        ls.tell_error(exc)  # a lost model process: its supervision tells, once
        return disable(ls, action, str(exc), told=True)
    except KeyError as exc:
        return disable(ls, action, str(exc), picked=picked)
    if result.disabled_reason is not None:
        action.data = {**data, "report": result.report}
        return disable(ls, action, result.disabled_reason, picked=picked)
    for file in result.files:
        if file.uri == uri and not file.create:
            file.version = doc.version
    edit = workspace_edit(ls, result.files)
    if isinstance(edit, str):
        return disable(ls, action, edit, picked=picked)
    action.edit = edit
    if result.unsure is not None:  # the extra samples disagree (actionSamples)
        action.title = f"{action.title} ({result.unsure})"
    action.command = types.Command(
        title="edgewise: report", command=CMD_REPORT_APPLIED, arguments=[result.report["id"]]
    )
    for file in result.files:  # shown when the edit arrives, should the command not come
        if file.uri == result.report["uri"]:
            ls.handed_out.expect(file.uri, file.after, result.report["id"])
    return action


async def apply_action(ls: EdgewiseServer, data: dict[str, Any]) -> bool:
    """``edgewise.applyAction``, for clients without CodeAction literals: run the action,
    apply it, report it."""
    action = await resolve_action(ls, types.CodeAction(title="", data=dict(data)))
    if action.edit is None:  # why was told by ``resolve_action`` (such a client cannot
        return False  # show a disabled action)
    uri = str(data.get("uri", ""))
    doc = ls.workspace.text_documents.get(uri)
    version = doc.version if doc is not None else None
    applied = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=action.edit, label="edgewise")
    )
    if applied.applied and action.command is not None:
        await wait_for_text(ls, uri, None, version)
        for report_id in action.command.arguments or []:  # the one report it made
            ls.show_report(str(report_id))
    return bool(applied.applied)


def _foreign(diagnostics: list[types.Diagnostic]) -> list[Mapping[str, Any]]:
    """Diagnostics of other servers, as plain data (they travel in the action's data)."""
    converter = get_converter()
    return [converter.unstructure(d, types.Diagnostic) for d in diagnostics if d.source != SOURCE]


async def code_action(
    ls: EdgewiseServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command]:
    uri = params.text_document.uri
    if not ls.is_open(uri):
        return []  # only documents the client opened
    doc = ls.workspace.get_text_document(uri)
    start = Pos(params.range.start.line, params.range.start.character)
    end = Pos(params.range.end.line, params.range.end.character)
    ls.parses.schedule_prefill(uri, end)  # the cursor rests here: its prompt, while idle
    only = params.context.only
    foreign = _foreign(list(params.context.diagnostics or []))
    found = ls.engine.available_actions(
        uri, doc.source, start, end, doc.language_id, foreign, workspace_view(ls)
    )
    actions: list[types.CodeAction | types.Command] = []
    for offer in found:
        spec = offer.spec
        if only and not any(spec.kind.startswith(str(kind)) for kind in only):
            continue
        data: dict[str, Any] = {
            "action": spec.id,
            "uri": uri,
            "version": doc.version,
            "range": {"start": start.to_dict(), "end": end.to_dict()},
        }
        action = types.CodeAction(title=offer.title, kind=spec.kind, data=data)
        if offer.diagnostic is not None:
            data["diagnostic"] = offer.diagnostic
            matching = [
                d
                for d in params.context.diagnostics
                if d.message == offer.diagnostic.get("message")
            ]
            action.diagnostics = matching[:1] or None
        if spec.id == "explain":
            action.command = types.Command(
                title=offer.title, command=CMD_EXPLAIN, arguments=[dict(data)]
            )
            if not ls.action_literals:
                actions.append(action.command)
                continue
        elif not ls.action_literals:
            # Clients that only know Commands run the action through the server,
            # which applies the edit with workspace/applyEdit.
            actions.append(
                types.Command(title=offer.title, command=CMD_APPLY_ACTION, arguments=[data])
            )
            continue
        elif not ls.resolve_edits:
            action = await resolve_action(ls, action, picked=False)
        actions.append(action)
    return actions
