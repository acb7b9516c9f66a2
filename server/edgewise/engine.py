"""The doors' handle on the pipeline (``edgewise/pipeline/``): the shared services, and
one method per request, each delegating to its stage.

documents -> context -> prompt -> model -> post-processing / verification -> report
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from edgewise.actions.base import Workspace
from edgewise.actions.offers import Offer
from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import Pos
from edgewise.context.prompt import Prompt
from edgewise.model.backend import Backend
from edgewise.pipeline import action, completion
from edgewise.pipeline.action import ActionResult
from edgewise.pipeline.completion import Completion
from edgewise.pipeline.prompts import completion_prompt
from edgewise.pipeline.services import Services, Session

__all__ = ["ActionResult", "Completion", "Engine", "Offer", "Session"]


class Engine(Services):
    """The services every request shares (documents, workspace, model host, session,
    calibrations, caches) with the requests the doors make of them."""

    def completion_prompt(
        self, backend: Backend, doc: ParsedDocument, pos: Pos, budget: int | None = None
    ) -> Prompt:
        return completion_prompt(self, backend, doc, pos, budget)

    def sent_prompt(
        self, backend: Backend, doc: ParsedDocument, pos: Pos, budget: int | None = None
    ) -> dict[str, Any]:
        """Exactly what a completion at ``pos`` sends, as ``edgewise.lastPrompt`` shows it
        (the same path as the server's completions; see pipeline/completion.py)."""
        completion.sent_prompt(self, backend, doc, pos, budget=budget)
        assert self.last_prompt is not None
        return self.last_prompt

    def prepare(self, uri: str, text: str, pos: Pos, language_id: str | None = None) -> None:
        """Bring the syntax tree and the context choice for ``pos`` up to date now (the LSP
        server calls this while the debounce runs)."""
        completion.prepare(self, uri, text, pos, language_id)

    def prefill_at(self, uri: str, text: str, pos: Pos, language_id: str | None = None) -> int:
        """Evaluate the prompt a completion at ``pos`` would send while the user is idle
        there (see pipeline/completion.py); nothing while a budget pauses the model."""
        if self.budget.blocked() is not None:
            return 0
        return completion.prefill_at(self, uri, text, pos, language_id)

    async def complete(
        self,
        uri: str,
        text: str,
        pos: Pos,
        language_id: str | None = None,
        action: str = "inline",
        cancel: threading.Event | None = None,
        *,
        single_line: bool = False,
        heal: bool = True,
        trim: bool = True,
        defer_log: bool = False,
        cold_cut: bool = False,
    ) -> Completion:
        """A completion at ``pos`` (see pipeline/completion.py); BudgetExceeded while a
        budget pauses the model."""
        self.budget.check()
        return await completion.complete(
            self,
            uri,
            text,
            pos,
            language_id,
            action,
            cancel,
            single_line=single_line,
            heal=heal,
            trim=trim,
            defer_log=defer_log,
            cold_cut=cold_cut,
        )

    def type_through(
        self, uri: str, text: str, pos: Pos, action: str = "inline"
    ) -> Completion | None:
        """The rest of the suggestion last shown when the user typed its start."""
        return completion.type_through(self, uri, text, pos, action)

    def available_actions(
        self,
        uri: str,
        text: str,
        start: Pos,
        end: Pos,
        language_id: str | None = None,
        diagnostics: list[Mapping[str, Any]] | None = None,
        workspace: Workspace | None = None,
    ) -> list[Offer]:
        """The actions that apply at the range (cheap: no model call)."""
        return action.available_actions(
            self, uri, text, start, end, language_id, diagnostics, workspace
        )

    async def run_action(
        self,
        action_id: str,
        uri: str,
        text: str,
        start: Pos,
        end: Pos,
        language_id: str | None = None,
        **options: Any,
    ) -> ActionResult:
        """Run one action (options: diagnostic, instruction, workspace, cancel,
        on_attempt; see pipeline/action.py); BudgetExceeded while a budget pauses the
        model."""
        self.budget.check()
        return await action.run_action(
            self, action_id, uri, text, start, end, language_id, **options
        )
