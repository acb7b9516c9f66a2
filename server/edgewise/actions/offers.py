"""The actions that apply at a range, found cheaply (no model call): one offer per
action whose finder sees a target there, one per diagnostic for ``fix``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgewise.actions.base import ActionContext, DiagnosticInfo, Workspace
from edgewise.actions.catalog import ActionSpec, actions_for
from edgewise.actions.regions import selected_lines
from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import LineIndex, Pos

MAX_FIX_OFFERS = 3


@dataclass(frozen=True)
class Offer:
    """An action that applies at a range (one per diagnostic for ``fix``)."""

    spec: ActionSpec
    title: str
    diagnostic: Mapping[str, Any] | None = None


def diagnostic_info(
    doc: ParsedDocument, raw: Mapping[str, Any] | None, encoding: str
) -> DiagnosticInfo | None:
    """An LSP diagnostic (as the client sent it) with byte offsets into ``doc``."""
    if not raw:
        return None
    try:
        rng = raw["range"]
        start = Pos(int(rng["start"]["line"]), int(rng["start"]["character"]))
        end = Pos(int(rng["end"]["line"]), int(rng["end"]["character"]))
    except (KeyError, TypeError, ValueError):
        return None
    a_byte, b_byte = LineIndex(doc.text, encoding).byte_range(start, end)
    code = raw.get("code")
    return DiagnosticInfo(
        message=str(raw.get("message", "")),
        code="" if code is None else str(code),
        source=str(raw.get("source") or ""),
        start_byte=a_byte,
        end_byte=b_byte,
        range=rng,
    )


def offers(
    doc: ParsedDocument,
    start_byte: int,
    end_byte: int,
    diagnostics: list[Mapping[str, Any]],
    workspace: Workspace,
    encoding: str,
) -> list[Offer]:
    """The actions that apply at the range, cheaply (no model call)."""
    if doc.language is None or doc.tree is None:
        return []
    start_byte, end_byte = selected_lines(doc, start_byte, end_byte)
    found: list[Offer] = []
    base = ActionContext(doc, start_byte, end_byte, workspace=workspace)
    for spec in actions_for(doc.language.name):
        if not spec.offered:
            continue
        if spec.id == "fix":
            for raw in diagnostics[:MAX_FIX_OFFERS]:
                info = diagnostic_info(doc, raw, encoding)
                ctx = ActionContext(doc, start_byte, end_byte, info, workspace=workspace)
                if info is not None and spec.find(ctx) is not None:
                    message = " ".join(info.message.split())
                    short = message if len(message) <= 60 else message[:57] + "..."
                    found.append(Offer(spec, spec.title.format(message=short), raw))
            continue
        if spec.find(base) is not None:
            found.append(Offer(spec, spec.title))
    return found


def label(spec: ActionSpec) -> str:
    """The action's title without its diagnostic placeholder (for messages)."""
    return spec.title.replace(": {message}", "")
