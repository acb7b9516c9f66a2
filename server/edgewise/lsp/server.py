"""`edgewise serve`: the LSP front door of the engine (pygls 2).

Every LSP method and command edgewise answers is listed here, next to the module that
handles it; the handlers are plain functions of ``(ls, params)``, grouped by area:

- lifecycle.py: initialize, initialized, workspace folders, settings, shutdown
- documents.py: didOpen, didChange, didClose
- completion.py: inline completions and completions
- code_actions.py: code actions, their resolution, ``edgewise.applyAction``
- action_commands.py: ``edgewise.rewrite`` and ``edgewise.explain``
- commands.py: reports, costs, the last prompt, a document's state

The server's state and shared services are in language_server.py; whatever reaches
below pygls' public API is in pygls_hooks.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lsprotocol import types

from edgewise.config import Settings
from edgewise.lsp import (
    action_commands,
    code_actions,
    commands,
    completion,
    documents,
    lifecycle,
)
from edgewise.lsp.command_ids import (
    CMD_APPLY_ACTION,
    CMD_COST_REPORT,
    CMD_DOCUMENT_STATE,
    CMD_EXPLAIN,
    CMD_INLINE_ACCEPTED,
    CMD_LAST_PROMPT,
    CMD_REPORT_APPLIED,
    CMD_RESUME_BUDGET,
    CMD_REWRITE,
    STATUS,
)
from edgewise.lsp.language_server import EdgewiseServer
from edgewise.lsp.parse_scheduling import PARSE_BUDGET_S

__all__ = [
    "CMD_APPLY_ACTION",
    "CMD_COST_REPORT",
    "CMD_DOCUMENT_STATE",
    "CMD_EXPLAIN",
    "CMD_INLINE_ACCEPTED",
    "CMD_LAST_PROMPT",
    "CMD_REPORT_APPLIED",
    "CMD_RESUME_BUDGET",
    "CMD_REWRITE",
    "COMMANDS",
    "FEATURES",
    "PARSE_BUDGET_S",
    "STATUS",
    "EdgewiseServer",
    "create_server",
]

Handler = Callable[..., Any]

# (LSP method, its options for the server's capabilities, handler)
FEATURES: list[tuple[str, Any, Handler]] = [
    (types.INITIALIZE, None, lifecycle.initialize),
    (types.INITIALIZED, None, lifecycle.initialized),
    (types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, None, lifecycle.did_change_folders),
    (types.WORKSPACE_DID_CHANGE_CONFIGURATION, None, lifecycle.did_change_configuration),
    (types.SHUTDOWN, None, lifecycle.shutdown),
    (types.TEXT_DOCUMENT_DID_OPEN, None, documents.did_open),
    (types.TEXT_DOCUMENT_DID_CHANGE, None, documents.did_change),
    (types.TEXT_DOCUMENT_DID_CLOSE, None, documents.did_close),
    (
        types.TEXT_DOCUMENT_INLINE_COMPLETION,
        completion.INLINE_OPTIONS,
        completion.inline_completion,
    ),
    (types.TEXT_DOCUMENT_COMPLETION, completion.COMPLETION_OPTIONS, completion.completion),
    (types.TEXT_DOCUMENT_CODE_ACTION, code_actions.OPTIONS, code_actions.code_action),
    (types.CODE_ACTION_RESOLVE, None, code_actions.resolve_action),
]

# workspace/executeCommand: command name -> handler
COMMANDS: dict[str, Handler] = {
    CMD_REWRITE: action_commands.rewrite,
    CMD_EXPLAIN: action_commands.explain,
    CMD_APPLY_ACTION: code_actions.apply_action,
    CMD_INLINE_ACCEPTED: commands.show_report,
    CMD_REPORT_APPLIED: commands.show_report,
    CMD_COST_REPORT: commands.cost_report,
    CMD_RESUME_BUDGET: commands.resume_budget,
    CMD_DOCUMENT_STATE: commands.document_state,
    CMD_LAST_PROMPT: commands.last_prompt,
}


def create_server(settings: Settings | None = None, allow_download: bool = True) -> EdgewiseServer:
    server = EdgewiseServer(settings, allow_download)
    for method, options, handler in FEATURES:
        server.feature(method, options)(handler)
    for name, handler in COMMANDS.items():
        server.command(name)(handler)
    return server
