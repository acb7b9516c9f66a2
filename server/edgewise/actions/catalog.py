"""The table of model actions. Adding one is a row here plus, if needed, a small module
with its target finder and post-processing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgewise.actions import docstring
from edgewise.actions.base import Plan, Target
from edgewise.context.documents import ParsedDocument


@dataclass(frozen=True)
class ActionSpec:
    id: str
    title: str
    kind: str  # LSP CodeActionKind
    languages: frozenset[str]
    system: str
    instruction: str  # format fields: {language}, {code}
    find: Callable[[ParsedDocument, int, int], Target | None]
    plan: Callable[[ParsedDocument, Target], Plan | None]
    # Start of the assistant's answer, appended after the chat template's generation
    # prompt (format field: {kind}). Small models (SmolLM2) otherwise echo the code.
    prefill: str = ""


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        id="docstring",
        title="Add docstring (edgewise)",
        kind="refactor.rewrite.edgewise.docstring",
        languages=frozenset({"python", "javascript", "typescript", "tsx"}),
        system="You are a careful senior engineer. You write short, accurate documentation.",
        instruction=(
            "```{language}\n{code}\n```\n\nWhat does this {kind} do? Answer in one sentence."
        ),
        find=docstring.find_target,
        plan=docstring.plan_insert,
        prefill="This {kind}",
    ),
)


def actions_for(language: str | None) -> list[ActionSpec]:
    return [a for a in ACTIONS if language is not None and language in a.languages]


def get_action(action_id: str) -> ActionSpec | None:
    return next((a for a in ACTIONS if a.id == action_id), None)
