"""The one pipeline behind every door (LSP server, batch refactor, context inspector).

documents -> context (tree-sitter, token budget) -> prompt -> model -> verify -> report
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgewise.actions.catalog import ActionSpec, actions_for, get_action
from edgewise.actions.verify import verify_edit
from edgewise.config import Settings
from edgewise.context.documents import DocumentStore, ParsedDocument
from edgewise.context.languages import LanguageRegistry
from edgewise.context.positions import LineIndex, Pos, clamp_position
from edgewise.context.prompt import Prompt, PromptBuilder
from edgewise.context.workspace import WorkspaceIndex
from edgewise.model.backend import Backend, GenerationRequest, GenerationResult, ModelError
from edgewise.model.host import ModelHost
from edgewise.report.builder import Usage, build_report

REPORTS_KEPT = 2000


@dataclass
class Completion:
    text: str
    report: dict[str, Any]
    hidden: bool  # below minConfidence


@dataclass
class ActionResult:
    action: ActionSpec
    edit_offset: int  # character offset where ``new_text`` is inserted
    new_text: str
    report: dict[str, Any]
    disabled_reason: str | None = None


@dataclass
class Session:
    """Everything the engine has produced this session, by report id."""

    reports: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    hidden: int = 0

    def add(self, report: dict[str, Any]) -> None:
        self.reports[report["id"]] = report
        while len(self.reports) > REPORTS_KEPT:
            self.reports.popitem(last=False)


class Engine:
    def __init__(
        self,
        settings: Settings | None = None,
        languages: LanguageRegistry | None = None,
        allow_download: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.languages = languages or LanguageRegistry()
        self.documents = DocumentStore(self.languages)
        self.host = ModelHost(self.settings, allow_download)
        self.session = Session()
        self.last_prompt: dict[str, Any] | None = None  # exactly what was last sent
        self.position_encoding = "utf-16"  # set by the LSP server at initialize
        self._builders: dict[int, PromptBuilder] = {}
        # context engine: files that imports name are read from these workspace roots
        # (set by the LSP server at initialize, by the CLI from --root)
        self.workspace = WorkspaceIndex(self.documents, self.languages)

    @property
    def workspace_roots(self) -> list[Path]:
        return self.workspace.roots

    @workspace_roots.setter
    def workspace_roots(self, roots: list[Path]) -> None:
        self.workspace.set_roots(roots)

    def configure(self, settings: Settings) -> None:
        self.settings = settings
        if self.host.configure(settings):
            self._builders.clear()

    def close(self) -> None:
        self.host.close()

    # --- prompts -----------------------------------------------------------------------

    def builder(self, backend: Backend) -> PromptBuilder:
        builder = self._builders.get(id(backend))
        if builder is None:
            info = backend.info()
            bos = backend.bos() if info.fim is None else []
            builder = PromptBuilder(
                tokenize=backend.tokenize,
                tokenize_special=lambda text: backend.tokenize(text, special=True),
                fim=info.fim,
                marker_text=backend.detokenize_special,
                bos=bos,
            )
            self._builders = {id(backend): builder}
        return builder

    def completion_prompt(
        self, backend: Backend, doc: ParsedDocument, pos: Pos, budget: int | None = None
    ) -> Prompt:
        line, column, notes = clamp_position(doc.lines, pos, self.position_encoding)
        if self.workspace.documents is not self.documents:
            self.workspace.documents = self.documents
        prompt = self.builder(backend).build(
            doc, line, column, budget or self.settings.context_budget, self.workspace
        )
        prompt.notes.extend(notes)
        return prompt

    # --- completions -------------------------------------------------------------------

    async def complete(
        self,
        uri: str,
        text: str,
        pos: Pos,
        language_id: str | None = None,
        action: str = "inline",
        cancel: threading.Event | None = None,
    ) -> Completion:
        doc = self.documents.sync(uri, text, language_id)
        backend = await self.host.backend()
        prompt = self.completion_prompt(backend, doc, pos)
        self.last_prompt = {"kind": "completion", "uri": uri, **prompt.to_dict()}
        multiline = wants_multiline(prompt.line_prefix, prompt.line_suffix)
        request = GenerationRequest(
            prompt=prompt.tokens,
            max_tokens=self.settings.max_tokens,
            temperature=self.settings.temperature,
            seed=self.settings.seed,
            stop=completion_stop(prompt.line_prefix, multiline),
            deadline=time.monotonic() + self.settings.max_completion_ms / 1000.0,
        )
        if cancel is not None:
            request.cancel = cancel
        result = await self.host.generate(request)
        inserted = trim_completion(result.text, prompt.line_suffix)
        index = LineIndex(doc.text, self.position_encoding)
        line, column = index.clamp(pos)
        start = index.position(index.starts[line] + column)
        usage = Usage()
        usage.add(result)
        report = build_report(
            kind="completion",
            action=action,
            uri=uri,
            start=start,
            inserted=inserted,
            result=result,
            usage=usage,
            info=backend.info(),
            settings=self.settings,
            prompt_format=prompt.format,
            encoding=self.position_encoding,
            syntax_ok=None,
            reason="completions are not syntax-checked until accepted",
            context=prompt_context(prompt),
        )
        score = report["confidence"]["score"]
        hidden = bool(
            self.settings.min_confidence > 0
            and (score is None or score < self.settings.min_confidence)
        )
        report["hidden"] = hidden
        if hidden:
            self.session.hidden += 1
        self.session.add(report)
        return Completion(inserted, report, hidden)

    # --- actions -----------------------------------------------------------------------

    def available_actions(
        self, uri: str, text: str, start: Pos, end: Pos, language_id: str | None = None
    ) -> list[ActionSpec]:
        doc = self.documents.sync(uri, text, language_id)
        if doc.language is None or doc.tree is None:
            return []
        start_byte, end_byte = byte_range(doc, start, end, self.position_encoding)
        return [
            spec
            for spec in actions_for(doc.language.name)
            if spec.find(doc, start_byte, end_byte) is not None
        ]

    async def run_action(
        self,
        action_id: str,
        uri: str,
        text: str,
        start: Pos,
        end: Pos,
        language_id: str | None = None,
    ) -> ActionResult:
        spec = get_action(action_id)
        if spec is None:
            raise ModelError(f"unknown action '{action_id}'")
        doc = self.documents.sync(uri, text, language_id)
        start_byte, end_byte = byte_range(doc, start, end, self.position_encoding)
        target = spec.find(doc, start_byte, end_byte)
        if target is None:
            raise ModelError(f"'{spec.title}' does not apply here any more")
        plan = spec.plan(doc, target)
        if plan is None:
            raise ModelError(f"'{spec.title}' cannot place its text here")
        backend = await self.host.backend()
        language = doc.language.name if doc.language else "text"
        messages = [
            {"role": "system", "content": spec.system},
            {
                "role": "user",
                "content": spec.instruction.format(
                    language=language, kind=target.kind, code=target.code
                ),
            },
        ]
        prompt_text = backend.render_chat(messages)
        tokens = backend.tokenize(prompt_text, special=True)
        budget = max(self.settings.context_length - self.settings.action_max_tokens - 1, 64)
        if len(tokens) > budget:
            raise ModelError(
                f"the {target.kind} is too long for the model's context "
                f"({len(tokens)} tokens > {budget}); raise `contextLength`"
            )
        self.last_prompt = {
            "kind": "action",
            "action": spec.id,
            "uri": uri,
            "text": prompt_text,
            "prompt_tokens": len(tokens),
            "format": "chat",
            "pieces": [],
            "assembly_ms": 0.0,
            "notes": [],
        }
        markers = plan.stop_markers
        request = GenerationRequest(
            prompt=tokens,
            max_tokens=self.settings.action_max_tokens,
            temperature=self.settings.temperature,
            seed=self.settings.seed,
            stop=marker_stop(markers),
        )
        result: GenerationResult = await self.host.generate(request)
        usage = Usage()
        usage.add(result)
        inserted = plan.render(result.text)
        after = doc.text[: plan.insert_offset] + inserted + doc.text[plan.insert_offset :]
        verdict = verify_edit(doc.language, doc.text, after)
        disabled = None
        if not inserted.strip():
            disabled = "the model produced no usable text"
        elif verdict.syntax_ok is False:
            disabled = verdict.reason
        index = LineIndex(doc.text, self.position_encoding)
        start_pos = index.position(plan.insert_offset)
        report = build_report(
            kind="action",
            action=spec.id,
            uri=uri,
            start=start_pos,
            inserted=inserted,
            result=result,
            usage=usage,
            info=backend.info(),
            settings=self.settings,
            prompt_format="chat",
            encoding=self.position_encoding,
            syntax_ok=verdict.syntax_ok,
            reason=disabled or verdict.reason,
            context={"prompt_tokens": len(tokens), "target": target.kind},
        )
        self.session.add(report)
        return ActionResult(spec, plan.insert_offset, inserted, report, disabled)


def byte_range(
    doc: ParsedDocument, start: Pos, end: Pos, encoding: str = "utf-16"
) -> tuple[int, int]:
    index = LineIndex(doc.text, encoding)
    a, b = index.offset(start), index.offset(end)
    a_b = len(doc.text[:a].encode("utf-8", "surrogatepass"))
    b_b = a_b + len(doc.text[a:b].encode("utf-8", "surrogatepass"))
    return a_b, b_b


def prompt_context(prompt: Prompt) -> dict[str, Any]:
    return {
        "pieces": [p.to_dict() for p in prompt.pieces],
        "assembly_ms": round(prompt.assembly_ms, 3),
        "notes": prompt.notes,
    }


def wants_multiline(line_prefix: str, line_suffix: str) -> bool:
    """Multi-line at a blank line or right after a block opener; one line mid-expression."""
    if line_suffix.strip():
        return False
    stripped = line_prefix.rstrip()
    return not stripped or stripped.endswith((":", "{", "(", "[", "=>"))


def completion_stop(line_prefix: str, multiline: bool) -> Any:
    """Stops a completion at the end of the line, or at the end of the enclosing scope:
    a later line indented less than the cursor's block, or a bracket closing a scope that
    began before the cursor."""
    base_indent = len(line_prefix) - len(line_prefix.lstrip())
    opens_block = line_prefix.rstrip().endswith((":", "{", "(", "[", "=>"))

    def stop(text: str) -> int | None:
        if not multiline:
            cut = text.find("\n")
            return cut if cut >= 0 else None
        depth = 0
        for index, char in enumerate(text):
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
                if depth < 0:
                    line_start = text.rfind("\n", 0, index) + 1
                    return line_start if text[line_start:index].strip() == "" else index
        lines = text.split("\n")
        offset = len(lines[0]) + 1
        for line in lines[1:-1]:  # the last line may still be growing
            if line.strip():
                indent = len(line) - len(line.lstrip())
                if indent < base_indent or (opens_block and indent <= base_indent):
                    return offset - 1
            offset += len(line) + 1
        if "\n\n\n" in text:
            return text.index("\n\n\n")
        return None

    return stop


def marker_stop(markers: tuple[str, ...]) -> Any:
    """Stop at the first marker that closes some prose (a marker before any prose is
    the model opening the block, and is cleaned away later)."""

    def stop(text: str) -> int | None:
        hits = [
            found
            for m in markers
            if (found := text.find(m, len(text) - len(text.lstrip()) + 1)) > 0
            and text[:found].strip(" \n\t\"'*/")
        ]
        return min(hits) if hits else None

    return stop


def trim_completion(text: str, line_suffix: str) -> str:
    """Drop trailing blank space and any overlap with the text already after the cursor."""
    out = text.rstrip()
    rest = line_suffix.strip()
    if rest and out.endswith(rest):
        out = out[: len(out) - len(rest)].rstrip()
    return out
