"""Context -> prompt. A completion's prompt is chosen piece by piece from the document
and workspace (FIM or prefix, ``context/prompt.py``), its last token healed; an action's
is a chat: the action's system and user messages, rendered with the model's template,
and the start of the reply written for it (prefill). A model without a chat template
fills the action's holes in the file instead (FIM, or the text before a hole as a
prefix), or continues the instruction written as plain text (prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgewise.actions.base import Hole
from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import Pos, clamp_position
from edgewise.context.prompt import Prompt
from edgewise.model.backend import Backend, ModelInfo
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
    # the token dropped is the last one of the last piece that has tokens: the pieces
    # add up to what is sent
    dropped = len(prompt.tokens) - len(fixed.tokens)
    for piece in reversed(described["pieces"]):
        if piece["tokens"] >= dropped:
            piece["tokens"] -= dropped
            break
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
    """An action's prompt: chat messages rendered with the model's template (``chat``),
    a hole of the file to fill in (``fim``), or text the model continues (``prefix``)."""

    messages: list[dict[str, str]] | None  # system, user (and the prefill, for a chat server)
    text: str  # as sent, special markers spelled out (a chat's prefill included)
    tokens: list[int]
    format: str = "chat"  # chat | fim | prefix
    infill: tuple[str, str, str] | None = None  # before, after, "" (a server's /infill)
    notes: tuple[str, ...] = ()

    def described(self, action: str, uri: str) -> dict[str, Any]:
        """As ``last_prompt`` shows it (the same keys as a completion's)."""
        return {
            "kind": "action",
            "action": action,
            "uri": uri,
            "text": self.text,
            "prompt_tokens": len(self.tokens),
            "format": self.format,
            "pieces": [],
            "assembly_ms": 0.0,
            "notes": list(self.notes),
        }


ActionPrompt = ChatPrompt
ACTION_FORMATS = ("chat", "fim", "prefix")
MAX_CHARS_PER_TOKEN = 64  # of any vocabulary's token, with room to spare


def action_format(choice: str, info: ModelInfo, has_infill: bool) -> str:
    """How an action asks this model (``actionPrompt``): through its chat template when
    it has one (a remote server takes chat messages in any case), else fill-in-the-middle
    where the action has an infill form and the model FIM tokens, else a prefix prompt."""
    if choice in ACTION_FORMATS:
        return "prefix" if choice == "fim" and not (has_infill and info.fim) else choice
    if info.chat_template or info.backend.startswith("remote"):
        return "chat"
    return "fim" if has_infill and info.fim is not None else "prefix"


async def instruction_prompt(backend: Backend, system: str, user: str, prefill: str) -> ChatPrompt:
    """The action's instruction as plain text the model continues, from the start of the
    reply: an instruction and response document (the Alpaca layout, which small base and
    instruct models answer in prose rather than echo the code; ``SectionStop`` ends the
    reply where the model starts another section)."""
    text = f"{system}\n\n### Instruction\n{user}\n\n### Response\n{prefill}"
    tokens = await off_loop_if_remote(backend, backend.tokenize, text, False)
    return ChatPrompt(None, text, backend.bos() + tokens, "prefix")


async def infill_prompt(backend: Backend, hole: Hole, fim: bool, budget: int) -> ChatPrompt:
    """A hole of the file as a fill-in-the-middle prompt (its text before and after), or
    as the text before it alone (``fim`` False); cut to ``budget`` tokens on the far
    sides: ¾ before, ¼ after."""
    info = backend.info()
    # a long file is not tokenized whole for a hole: no token spans more characters
    span = budget * MAX_CHARS_PER_TOKEN
    before_text, after_text = hole.before[-span:], hole.after[:span]
    before = await off_loop_if_remote(backend, backend.tokenize, before_text, False)
    after = await off_loop_if_remote(backend, backend.tokenize, after_text, False) if fim else []
    bos = backend.bos()
    room = max(budget - len(bos) - (3 if fim else 0), 16)
    notes: list[str] = []
    if len(before) + len(after) > room:
        keep_after = min(len(after), max(room // 4, room - len(before)))
        keep_before = min(len(before), room - keep_after)
        notes.append(
            f"the file cut to {keep_before} tokens before the hole and {keep_after} after "
            f"to fit {budget} tokens"
        )
        before, after = before[len(before) - keep_before :], after[:keep_after]
    if notes:
        before_text, after_text = backend.detokenize(before), backend.detokenize(after)
    if not fim or info.fim is None:
        marker_bos = "".join(backend.detokenize_special(t) for t in bos)
        return ChatPrompt(
            None, marker_bos + before_text, bos + before, "prefix", None, tuple(notes)
        )
    pre, suf, mid = info.fim.prefix, info.fim.suffix, info.fim.middle
    tokens = bos + [pre] + before + [suf] + after + [mid]
    text = "".join(backend.detokenize_special(t) for t in (*bos, pre)) + before_text
    text += backend.detokenize_special(suf) + after_text + backend.detokenize_special(mid)
    return ChatPrompt(None, text, tokens, "fim", (before_text, after_text, ""), tuple(notes))


async def chat_prompt(backend: Backend, system: str, user: str, prefill: str) -> ChatPrompt:
    """The action's messages rendered and tokenized (off the event loop when remote)."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    rendered = await off_loop_if_remote(backend, backend.render_chat, messages)
    text = rendered + prefill
    tokens = await off_loop_if_remote(backend, backend.tokenize, text, True)
    # a chat server gets the start of the reply as the assistant's own message
    sent = messages + ([{"role": "assistant", "content": prefill}] if prefill else [])
    return ChatPrompt(sent, text, tokens)
