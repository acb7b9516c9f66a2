"""Model code actions: listed cheaply, their edits computed lazily on resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from edgewise.context.positions import LineIndex, Pos
from edgewise.model.backend import ModelError

if TYPE_CHECKING:
    from edgewise.lsp.server import EdgewiseServer


def _pos(data: dict[str, int]) -> Pos:
    return Pos(int(data["line"]), int(data["character"]))


async def resolve_action(ls: EdgewiseServer, action: types.CodeAction) -> types.CodeAction:
    from edgewise.lsp.server import CMD_REPORT_APPLIED

    data: dict[str, Any] = action.data or {}
    uri = data.get("uri", "")
    refusal = ls.guard.refusal(uri, uri in ls.workspace.text_documents)
    if refusal is not None:
        action.disabled = types.CodeActionDisabled(reason=f"edgewise will not edit this: {refusal}")
        return action
    try:
        doc = ls.workspace.get_text_document(uri)
        if doc.version is not None and data.get("version") not in (None, doc.version):
            action.disabled = types.CodeActionDisabled(reason="the document changed; ask again")
            return action
        ls.status("busy")
        result = await ls.engine.run_action(
            data["action"],
            uri,
            doc.source,
            _pos(data["range"]["start"]),
            _pos(data["range"]["end"]),
            doc.language_id,
        )
    except (ModelError, KeyError) as exc:
        if isinstance(exc, ModelError):
            ls.model_error(exc)
        action.disabled = types.CodeActionDisabled(reason=str(exc))
        return action
    ls.status("idle", result.report)
    if result.disabled_reason is not None:
        action.disabled = types.CodeActionDisabled(reason=result.disabled_reason)
        action.data = {**data, "report": result.report}
        return action
    position = LineIndex(doc.source, ls.engine.position_encoding).position(result.edit_offset)
    where = types.Position(line=position.line, character=position.character)
    edit = types.TextEdit(range=types.Range(start=where, end=where), new_text=result.new_text)
    if ls.document_changes:
        action.edit = types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=doc.version
                    ),
                    edits=[edit],
                )
            ]
        )
    else:
        action.edit = types.WorkspaceEdit(changes={uri: [edit]})
    action.command = types.Command(
        title="edgewise: report", command=CMD_REPORT_APPLIED, arguments=[result.report["id"]]
    )
    return action


def register(server: EdgewiseServer) -> None:
    from edgewise.lsp.server import CODE_ACTION_KINDS

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: EdgewiseServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        uri = params.text_document.uri
        if uri not in ls.workspace.text_documents:
            return []  # only documents the client opened
        doc = ls.workspace.get_text_document(uri)
        start = Pos(params.range.start.line, params.range.start.character)
        end = Pos(params.range.end.line, params.range.end.character)
        only = params.context.only
        actions: list[types.CodeAction] = []
        for spec in ls.engine.available_actions(uri, doc.source, start, end, doc.language_id):
            if only and not any(spec.kind.startswith(str(kind)) for kind in only):
                continue
            action = types.CodeAction(
                title=spec.title,
                kind=spec.kind,
                data={
                    "action": spec.id,
                    "uri": uri,
                    "version": doc.version,
                    "range": {"start": start.to_dict(), "end": end.to_dict()},
                },
            )
            if not ls.resolve_edits:
                action = await resolve_action(ls, action)
            actions.append(action)
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: EdgewiseServer, action: types.CodeAction) -> types.CodeAction:
        return await resolve_action(ls, action)
