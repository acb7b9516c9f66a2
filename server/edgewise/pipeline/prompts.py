"""Context -> prompt. A completion's prompt is chosen piece by piece from the document
and workspace (FIM or prefix, ``context/prompt.py``), its last token healed; an action's
is a chat: the action's system and user messages, rendered with the model's template,
and the start of the reply written for it (prefill)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import Pos, clamp_position
from edgewise.context.prompt import Prompt
from edgewise.model.backend import Backend
from edgewise.model.healing import heal_prompt
from edgewise.pipeline.offload import off_loop_if_remote
from edgewise.pipeline.services import Services


def completion_prompt(
    services: Services, backend: Backend, doc: ParsedDocument, pos: Pos, budget: int | None = None
) -> Prompt:
    """The completion prompt at ``pos``: as much context as the budget (and the model's
    context, less room for the answer) holds."""
    line, column, notes = clamp_position(doc.lines, pos, services.position_encoding)
    if services.workspace.documents is not services.documents:
        services.workspace.documents = services.documents
    settings = services.settings
    wanted = budget or settings.context_budget
    fits = backend.info().context_length - settings.max_tokens - 1
    with doc.parse_budget(services.completion_parse_s):
        prompt = services.builder(backend).build(
            doc,
            line,
            column,
            max(min(wanted, fits), 16),
            services.workspace,
            services.neighbours(doc),
        )
    if wanted > fits:
        prompt.notes.append(f"budget {wanted} lowered to {fits} tokens to fit the model's context")
    prompt.notes.extend(notes)
    if doc.parse_pending:
        prompt.notes.append(
            "syntax from before the latest edits: their re-parse (a whole-file one) "
            "finishes in the next pauses"
        )
    return prompt


@dataclass(frozen=True)
class Sent:
    """The tokens a completion sends, and the prompt as reported (``last_prompt``)."""

    tokens: list[int]
    heal_prefix: str
    described: dict[str, Any]


def healed(prompt: Prompt, backend: Backend, heal: bool) -> Sent:
    """Token healing: the prompt's last token is dropped and regenerated, constrained to
    start with its text (when the backend can; ``heal=False`` turns it off)."""
    described: dict[str, Any] = prompt.to_dict()
    fixed = (
        heal_prompt(prompt.tokens, lambda token: backend.detokenize([token]))
        if heal and backend.info().token_healing
        else None
    )
    if fixed is None:
        described["heal_prefix"] = ""
        return Sent(prompt.tokens, "", described)
    described["text"] = prompt.text[: len(prompt.text) - len(fixed.heal_prefix)]
    described["prompt_tokens"] = len(fixed.tokens)
    described["heal_prefix"] = fixed.heal_prefix
    return Sent(fixed.tokens, fixed.heal_prefix, described)


def fim_parts(prompt: Prompt) -> tuple[str, str, str] | None:
    """Context before, text after, and the cursor line's start: what /infill takes."""
    if prompt.format != "fim":
        return None
    before = "".join(p.text for p in prompt.pieces if p.kind in ("scope_header", "prefix"))
    after = "".join(p.text for p in prompt.pieces if p.kind == "suffix")
    return before, after, prompt.line_prefix


def prompt_context(prompt: Prompt) -> dict[str, Any]:
    """The report's ``context``: the pieces chosen, how long choosing took, notes."""
    return {
        "pieces": [p.to_dict() for p in prompt.pieces],
        "assembly_ms": round(prompt.assembly_ms, 3),
        "notes": prompt.notes,
    }


@dataclass(frozen=True)
class ChatPrompt:
    messages: list[dict[str, str]]  # system, user (and the prefill, for a chat server)
    text: str  # rendered with the model's chat template, prefill included
    tokens: list[int]

    def described(self, action: str, uri: str) -> dict[str, Any]:
        """As ``last_prompt`` shows it (the same keys as a completion's)."""
        return {
            "kind": "action",
            "action": action,
            "uri": uri,
            "text": self.text,
            "prompt_tokens": len(self.tokens),
            "format": "chat",
            "pieces": [],
            "assembly_ms": 0.0,
            "notes": [],
        }


async def chat_prompt(backend: Backend, system: str, user: str, prefill: str) -> ChatPrompt:
    """The action's messages rendered and tokenized (off the event loop when remote)."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    rendered = await off_loop_if_remote(backend, backend.render_chat, messages)
    text = rendered + prefill
    tokens = await off_loop_if_remote(backend, backend.tokenize, text, True)
    # a chat server gets the start of the reply as the assistant's own message
    sent = messages + ([{"role": "assistant", "content": prefill}] if prefill else [])
    return ChatPrompt(sent, text, tokens)
