"""The table of model actions. Adding one is a row here plus, if needed, a small module
with its target finder (``find``: cheap, runs while the editor lists actions) and its
plan (``plan``: where the text goes and how the reply becomes it; runs on resolve)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgewise.actions import annotate, docstring, rewrite, testgen
from edgewise.actions.base import ActionContext, Plan, Target

ALL_CODE = frozenset({"python", "javascript", "typescript", "tsx"})
SYSTEM_DOC = "You are a careful senior engineer. You write short, accurate documentation."
SYSTEM_CODE = (
    "You are a careful senior engineer. You change code exactly as asked, keep its "
    "behaviour unless told otherwise, and reply with code only."
)
CODE_REPLY = "Reply with the code only, in one ```{language} block."
# Appended to the request when the first reply was rejected (one retry, then disabled).
STRICT = (
    "\n\nYour previous reply could not be used: {problem}. Reply again, exactly in the "
    "format asked for, with complete and valid {language}: every bracket, string and "
    "block closed, nothing else."
)


@dataclass(frozen=True)
class ActionSpec:
    id: str
    title: str
    kind: str  # LSP CodeActionKind
    languages: frozenset[str]
    system: str
    instruction: str  # format fields: {language} {kind} {name} {code} + the target's fields
    find: Callable[[ActionContext], Target | None]
    plan: Callable[[ActionContext, Target], Plan | None]
    offered: bool = True  # listed by textDocument/codeAction (rewrite needs an instruction)
    strict: str = STRICT
    plans_from_disk: bool = False  # plan walks and reads workspace files: run off the loop


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        id="docstring",
        title="Add docstring (edgewise)",
        kind="refactor.rewrite.edgewise.docstring",
        languages=ALL_CODE,
        system=SYSTEM_DOC,
        instruction=(
            "```{language}\n{code}\n```\n\nWhat does this {kind} do? Answer in one sentence."
        ),
        find=docstring.find_target,
        plan=docstring.plan_insert,
    ),
    ActionSpec(
        id="docstring.module",
        title="Add module docstring (edgewise)",
        kind="refactor.rewrite.edgewise.docstring.module",
        languages=ALL_CODE,
        system=SYSTEM_DOC,
        instruction=(
            "Write a one-sentence summary of what this {language} module ({name}) is for, "
            "to open the file. Reply with the sentence only: no quotes, no code, no "
            "comment markers.\n\n```{language}\n{code}\n```"
        ),
        find=docstring.find_module,
        plan=docstring.plan_module,
    ),
    ActionSpec(
        id="annotate.python",
        title="Add type annotations (edgewise)",
        kind="refactor.rewrite.edgewise.annotate",
        languages=frozenset({"python"}),
        system=SYSTEM_CODE,
        instruction=(
            "Add Python type annotations to the signature of `{name}` (missing: {missing}). "
            "Reply with the annotated `def` line only, in one ```python block.\n\n"
            "```python\n{code}\n```"
        ),
        find=annotate.find_python,
        plan=annotate.plan_python,
    ),
    ActionSpec(
        id="annotate.jsdoc",
        title="Add JSDoc types (edgewise)",
        kind="refactor.rewrite.edgewise.annotate",
        languages=frozenset({"javascript"}),
        system=SYSTEM_CODE,
        instruction=(
            "Write a JSDoc comment with the types of `{name}`: one `@param {{type}} name` "
            "line for each parameter ({params}) and one `@returns {{type}}` line. Reply "
            "with the comment only, in one ```javascript block.\n\n```javascript\n{code}\n```"
        ),
        find=annotate.find_jsdoc_types,
        plan=annotate.plan_jsdoc_types,
    ),
    ActionSpec(
        id="annotate.return-type",
        title="Add explicit return type (edgewise)",
        kind="refactor.rewrite.edgewise.annotate",
        languages=frozenset({"typescript", "tsx"}),
        system=SYSTEM_CODE,
        instruction=(
            "What does this TypeScript {kind} `{name}` return? Reply with its return type "
            "only (a TypeScript type, nothing else), in one ```typescript block.\n\n"
            "```typescript\n{code}\n```"
        ),
        find=annotate.find_return_type,
        plan=annotate.plan_return_type,
    ),
    ActionSpec(
        id="fix",
        title="Fix with edgewise: {message}",
        kind="quickfix.edgewise",
        languages=ALL_CODE,
        system=SYSTEM_CODE,
        instruction=(
            "{source} reports a problem in this {language} code: {message} ({code_id}).\n\n"
            "The problem is in these lines:\n```{language}\n{code}\n```\n\n"
            "They are part of:\n```{language}\n{context}\n```\n\n"
            "Reply with the corrected lines only (the same lines, fixed). " + CODE_REPLY
        ),
        find=rewrite.find_fix,
        plan=rewrite.plan_lines,
    ),
    ActionSpec(
        id="rewrite",
        title="Rewrite with an instruction (edgewise)",
        kind="refactor.rewrite.edgewise.rewrite",
        languages=ALL_CODE,
        system=SYSTEM_CODE,
        instruction=(
            "Rewrite this {language} code as instructed: {instruction}\n\n"
            "```{language}\n{code}\n```\n\n" + CODE_REPLY
        ),
        find=rewrite.find_rewrite,
        plan=rewrite.plan_lines,
        offered=False,  # workspace/executeCommand edgewise.rewrite {uri, range, instruction}
    ),
    ActionSpec(
        id="simplify",
        title="Simplify (edgewise)",
        kind="refactor.rewrite.edgewise.simplify",
        languages=ALL_CODE,
        system=SYSTEM_CODE,
        instruction=(
            "Simplify this {language} {kind} without changing what it does: fewer lines, "
            "clearer names are fine, same behaviour and signature.\n\n"
            "```{language}\n{code}\n```\n\n" + CODE_REPLY
        ),
        find=rewrite.find_simplify,
        plan=rewrite.plan_lines,
    ),
    ActionSpec(
        id="explain",
        title="Explain (edgewise)",
        kind="refactor.edgewise.explain",
        languages=ALL_CODE,
        system="You are a careful senior engineer explaining code to a colleague.",
        instruction=(
            "Explain what this {language} {kind} does, for a colleague about to change "
            "it: purpose, inputs, outputs, side effects and edge cases. Plain prose, at "
            "most 150 words.\n\n```{language}\n{code}\n```"
        ),
        find=rewrite.find_explain,
        plan=rewrite.plan_explain,
    ),
    ActionSpec(
        id="test",
        title="Generate a unit test (edgewise)",
        kind="refactor.edgewise.test",
        languages=ALL_CODE,
        system=SYSTEM_CODE,
        instruction=(
            "Write one unit test for the {language} {kind} `{called}` with {framework}. "
            "The test goes into {test_file}, which imports it with:\n{import_line}\n\n"
            "```{language}\n{code}\n```\n\nReply with the test only, in one "
            "```{language} block."
        ),
        find=testgen.find_test,
        plan=testgen.plan_test,
        plans_from_disk=True,
    ),
)


def actions_for(language: str | None) -> list[ActionSpec]:
    return [a for a in ACTIONS if language is not None and language in a.languages]


def get_action(action_id: str) -> ActionSpec | None:
    return next((a for a in ACTIONS if a.id == action_id), None)
