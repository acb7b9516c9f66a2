"""Work-done progress ($/progress) for long model runs, cancellable by the user, and
the run of an action under it.

The client's ``window/workDoneProgress/cancel`` (and a ``$/cancelRequest`` of the
request, which pygls turns into task cancellation) sets the ``cancel`` event the model
checks between tokens, so the model stops within one token.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from types import TracebackType
from typing import Any

from lsprotocol import types

from edgewise.actions.runner import ActionResult
from edgewise.context.positions import Pos
from edgewise.lsp.language_server import EdgewiseServer
from edgewise.lsp.workspace_edits import workspace_view

log = logging.getLogger(__name__)
TICK_SECONDS = 0.25


class ActionProgress:
    """``async with ActionProgress(ls, title) as progress:`` around a model run."""

    def __init__(self, ls: EdgewiseServer, title: str) -> None:
        self.ls = ls
        self.title = title
        self.cancel = threading.Event()
        self.token: str | None = None
        self.message = "starting"
        self._started = time.monotonic()
        self._ticker: asyncio.Task[None] | None = None

    def _supported(self) -> bool:
        caps = self.ls.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    async def __aenter__(self) -> ActionProgress:
        if not self._supported():
            return self
        token = f"edgewise-{uuid.uuid4().hex[:12]}"
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception as exc:  # a client that refuses progress still gets its answer
            log.debug("no work-done progress: %s", exc)
            return self
        self.token = token
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda _: self.cancel.set())
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=self.title, cancellable=True, message=self.message),
        )
        self._ticker = asyncio.ensure_future(self._tick())
        return self

    def note(self, attempt: int, message: str) -> None:
        """Called by the action runner at each model call."""
        self.message = message if attempt == 1 else f"attempt {attempt}: {message}"
        self._report()

    def _report(self) -> None:
        if self.token is None:
            return
        elapsed = time.monotonic() - self._started
        self.ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(message=f"{self.message} ({elapsed:.1f} s)"),
        )

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._report()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is asyncio.CancelledError:
            self.cancel.set()
        if self._ticker is not None:
            self._ticker.cancel()
        if self.token is None:
            return
        done = "cancelled" if self.cancel.is_set() else "done"
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=done))
        self.ls.work_done_progress.tokens.pop(self.token, None)


def _pos(data: dict[str, Any]) -> Pos:
    return Pos(int(data["line"]), int(data["character"]))


async def run_with_progress(
    ls: EdgewiseServer,
    title: str,
    data: dict[str, Any],
    source: str,
    language_id: str,
    **extra: Any,
) -> ActionResult:
    """Run an action from its code action ``data`` with progress and status updates
    (``edgewise/status`` says busy while any model request runs, then idle)."""
    result: ActionResult | None = None
    try:
        with ls.working():
            async with ActionProgress(ls, f"edgewise: {title}") as progress:
                result = await ls.engine.run_action(
                    data["action"],
                    data["uri"],
                    source,
                    _pos(data["range"]["start"]),
                    _pos(data["range"]["end"]),
                    language_id,
                    workspace=workspace_view(ls),
                    cancel=progress.cancel,
                    on_attempt=progress.note,
                    **extra,
                )
    finally:
        ls.tell_notes()
        ls.status("busy" if ls.busy else "idle", result.report if result else None)
    return result
