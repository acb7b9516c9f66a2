"""``workspace/executeCommand`` that ``$/cancelRequest`` really cancels.

pygls 2.1 runs executeCommand as a generator that calls the command handler as a second,
separately scheduled task; ``$/cancelRequest`` then only cancels the outer future and
the command (a model run) goes on to the end. Here the command handler is awaited by
the request's own task, so cancelling the request cancels the command: the action's
progress sets its cancel event and the model stops between two tokens.
"""

from __future__ import annotations

import inspect
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol.language_server import _prepare_command_arguments, lsp_method


class CancellableCommands:
    """Mixin for a LanguageServerProtocol (put it first among the bases)."""

    fm: Any
    _converter: Any

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Any:
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams.of(
                ValueError(f"Command name {params.command!r} is not defined")
            )
        try:
            args, kwargs = _prepare_command_arguments(handler, params, self._converter)
        except Exception as exc:
            raise JsonRpcInvalidParams.of(exc) from exc
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result
