"""Actions that replace whole lines with the model's code (fix a diagnostic, rewrite with
an instruction, simplify) and the one that only explains them."""

from __future__ import annotations

from edgewise.actions.base import (
    ActionContext,
    Plan,
    Rendered,
    Target,
    char_offset,
    indentation,
)
from edgewise.actions.codeblock import (
    clean_prose,
    code_for_prompt,
    code_reply,
    fence,
    fence_stop,
)
from edgewise.actions.regions import (
    file_indent_unit,
    innermost_definition,
    lines_target,
    node_text,
    whole_lines,
)
from edgewise.context.positions import utf8_span

MAX_INSTRUCTION = 2000
CONTEXT_CHARS = 2400


def _language(ctx: ActionContext) -> str:
    return ctx.doc.language.name if ctx.doc.language else "text"


def _with_prompt_code(target: Target, **fields: str) -> Target:
    return Target(
        target.start_byte,
        target.end_byte,
        code_for_prompt(target.code),
        target.kind,
        {**target.fields, **fields},
        target.name,
    )


def plan_lines(ctx: ActionContext, target: Target) -> Plan | None:
    """Replace the target's whole lines by the code of the reply, re-indented."""
    doc = ctx.doc
    start = char_offset(doc.data, target.start_byte)
    end = char_offset(doc.data, target.end_byte)
    base = indentation(doc.text, start)
    unit = file_indent_unit(doc.text)

    def render(reply: str) -> Rendered:
        return Rendered(code_reply(reply, base, unit))

    return Plan(start, end, render, stop=fence_stop(), prefill=fence(_language(ctx)))


# --- fix a diagnostic ---------------------------------------------------------------------


def find_fix(ctx: ActionContext) -> Target | None:
    """The whole lines of a diagnostic from another server that touches the range."""
    diag = ctx.diagnostic
    doc = ctx.doc
    if diag is None or doc.language is None:
        return None
    if diag.end_byte < ctx.start_byte or ctx.end_byte < diag.start_byte:
        return None
    data = doc.data
    a, b = whole_lines(
        doc.text, char_offset(data, diag.start_byte), char_offset(data, diag.end_byte)
    )
    code = doc.text[a:b]
    if not code.strip():
        return None
    around = innermost_definition(doc, diag.start_byte, diag.end_byte)
    context = node_text(around) if around is not None else doc.text[max(0, a - 800) : b + 800]
    if len(context) > CONTEXT_CHARS:
        context = doc.text[max(0, a - CONTEXT_CHARS // 2) : b + CONTEXT_CHARS // 2]
    target = Target(*utf8_span(doc.text, a, b), code, "lines")
    return _with_prompt_code(
        target,
        message=" ".join(diag.message.split())[:500],
        code_id=diag.code or "no code",
        source=diag.source or "another tool",
        context=code_for_prompt(context),
    )


# --- rewrite with an instruction, simplify, explain ----------------------------------------


def find_rewrite(ctx: ActionContext) -> Target | None:
    instruction = " ".join(ctx.instruction.split())
    if not instruction:
        return None
    target = lines_target(ctx, definitions=True, current_line=True)
    if target is None:
        return None
    return _with_prompt_code(target, instruction=instruction[:MAX_INSTRUCTION])


def find_simplify(ctx: ActionContext) -> Target | None:
    target = lines_target(ctx, definitions=True, current_line=False)
    if target is None or target.code.count("\n") < 1:
        return None  # one line is already as simple as this action makes it
    return _with_prompt_code(target)


def find_explain(ctx: ActionContext) -> Target | None:
    target = lines_target(ctx, definitions=True, current_line=True)
    return _with_prompt_code(target) if target is not None else None


def plan_explain(ctx: ActionContext, target: Target) -> Plan | None:
    start = char_offset(ctx.doc.data, target.start_byte)
    end = char_offset(ctx.doc.data, target.end_byte)

    def render(reply: str) -> Rendered:
        return Rendered(clean_prose(reply))

    return Plan(start, end, render, output="text")
