"""Assembles the completion prompt: what is sent to the model, piece by piece.

Order is stable across keystrokes so the model's KV cache reuses everything before the
cursor line: extra context (scope headers) first, then the lines above the cursor, then
the suffix, and the current line up to the cursor last (after the FIM "middle" marker,
as llama.vim does). Every token count is exact, from the model's own tokenizer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from edgewise.context.documents import ParsedDocument
from edgewise.context.lines import lsp_lines
from edgewise.context.scopes import enclosing_scopes
from edgewise.model.backend import FimTokens

Tokenize = Callable[[str], list[int]]

ABOVE_SHARE = 0.75  # of the window budget, the rest goes below the cursor


@dataclass(frozen=True)
class Piece:
    kind: str  # scope_header | prefix | suffix | line | marker
    source: str  # uri
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, inclusive
    tokens: int
    text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "source": self.source,
            "start_line": self.start_line + 1,
            "end_line": self.end_line + 1,
            "tokens": self.tokens,
        }


@dataclass
class Prompt:
    tokens: list[int]
    text: str  # the prompt as text, special markers spelled out
    pieces: list[Piece]
    format: str  # fim | prefix
    assembly_ms: float
    line_prefix: str  # text of the cursor line before the cursor
    line_suffix: str  # text of the cursor line after the cursor
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "prompt_tokens": len(self.tokens),
            "format": self.format,
            "pieces": [p.to_dict() for p in self.pieces],
            "assembly_ms": self.assembly_ms,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Cursor:
    line: int  # 0-based
    offset: int  # character offset into the text


def split_lines(text: str) -> list[str]:
    """Lines with their endings, like the LSP sees them (only \\n, \\r\\n and \\r end a
    line, not the form feeds and separators ``str.splitlines`` breaks at); at least one."""
    lines = lsp_lines(text)
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


class PromptBuilder:
    """Builds FIM or prefix-only prompts for one model's tokenizer."""

    def __init__(
        self,
        tokenize: Tokenize,
        tokenize_special: Tokenize,
        fim: FimTokens | None,
        marker_text: Callable[[int], str],
        bos: list[int] | None = None,
    ) -> None:
        self.tokenize = tokenize
        self.tokenize_special = tokenize_special
        self.fim = fim
        self.marker_text = marker_text
        self.bos = bos or []

    def build(self, doc: ParsedDocument, line: int, character: int, budget: int) -> Prompt:
        started = time.perf_counter()
        lines = split_lines(doc.text)
        notes: list[str] = []
        if doc.note:
            notes.append(doc.note)
        line = max(0, min(line, len(lines) - 1))
        content = lines[line].rstrip("\r\n")
        if character > len(content):
            notes.append(f"column {character + 1} is past the end of line {line + 1}: clamped")
        character = max(0, min(character, len(content)))
        line_prefix = content[:character]
        line_suffix = lines[line][character:]
        fmt = "fim" if self.fim is not None else "prefix"

        fixed = len(self.bos) + (3 if fmt == "fim" else 0)
        line_tokens = len(self.tokenize(line_prefix))
        remaining = max(budget - fixed - line_tokens, 0)

        headers = self._headers(doc, line, lines)
        above_budget = int(remaining * (ABOVE_SHARE if fmt == "fim" else 1.0))
        above, above_tokens = self._take_lines(lines, range(line - 1, -1, -1), above_budget)
        first_above = above[0] if above else line
        kept_headers: list[tuple[int, str, int]] = []
        header_tokens = 0
        for header_line, text in headers:
            if header_line >= first_above:
                continue  # already visible in the window
            cost = len(self.tokenize(text))
            if header_tokens + cost <= remaining - above_tokens:
                kept_headers.append((header_line, text, cost))
                header_tokens += cost
        below: list[int] = []
        if fmt == "fim":
            below_budget = (
                remaining - above_tokens - header_tokens - len(self.tokenize(line_suffix))
            )
            below, _ = self._take_lines(lines, range(line + 1, len(lines)), max(below_budget, 0))

        for _ in range(64):
            prompt = self._assemble(
                doc, fmt, kept_headers, above, line, line_prefix, line_suffix, below, lines
            )
            if len(prompt.tokens) <= budget:
                break
            # Exact count over budget (BPE merges across piece boundaries): trim the
            # farthest line, below first, then above, then headers.
            if below:
                below.pop()
            elif above:
                above.pop(0)
            elif kept_headers:
                kept_headers.pop(0)
            else:
                notes.append("budget too small for the current line")
                break
        prompt.notes = notes
        prompt.assembly_ms = (time.perf_counter() - started) * 1000.0
        return prompt

    def _headers(self, doc: ParsedDocument, line: int, lines: list[str]) -> list[tuple[int, str]]:
        offset = sum(len(text) for text in lines[:line])
        byte_offset = len(doc.text[:offset].encode("utf-8", "surrogatepass"))
        headers: list[tuple[int, str]] = []
        data = doc.text.encode("utf-8", "surrogatepass") if doc.tree is not None else b""
        for scope in enclosing_scopes(doc, byte_offset):
            start, end = scope.header_bytes
            text = data[start:end].decode("utf-8", "replace").rstrip()
            first_line = scope.node.start_point.row
            indent = lines[first_line][: len(lines[first_line]) - len(lines[first_line].lstrip())]
            headers.append((first_line, indent + text + "\n"))
        return headers

    def _take_lines(self, lines: list[str], order: range, budget: int) -> tuple[list[int], int]:
        taken: list[int] = []
        used = 0
        for index in order:
            cost = len(self.tokenize(lines[index]))
            if used + cost > budget:
                break
            taken.append(index)
            used += cost
        return sorted(taken), used

    def _assemble(
        self,
        doc: ParsedDocument,
        fmt: str,
        headers: list[tuple[int, str, int]],
        above: list[int],
        line: int,
        line_prefix: str,
        line_suffix: str,
        below: list[int],
        lines: list[str],
    ) -> Prompt:
        uri = doc.uri
        pieces: list[Piece] = []
        head_text = "".join(text for _, text, _ in headers)
        above_text = "".join(lines[i] for i in above)
        below_text = line_suffix + "".join(lines[i] for i in below)
        for header_line, text, cost in headers:
            pieces.append(Piece("scope_header", uri, header_line, header_line, cost, text))
        context_text = head_text + above_text
        context_tokens = self.tokenize(context_text)
        if above:
            pieces.append(
                Piece(
                    "prefix",
                    uri,
                    above[0],
                    above[-1],
                    len(context_tokens) - sum(p.tokens for p in pieces),
                    above_text,
                )
            )
        line_tokens = self.tokenize(line_prefix)
        if fmt == "fim":
            assert self.fim is not None
            suffix_tokens = self.tokenize(below_text)
            tokens = (
                self.bos
                + [self.fim.prefix]
                + context_tokens
                + [self.fim.suffix]
                + suffix_tokens
                + [self.fim.middle]
                + line_tokens
            )
            text = (
                "".join(self.marker_text(t) for t in self.bos)
                + self.marker_text(self.fim.prefix)
                + context_text
                + self.marker_text(self.fim.suffix)
                + below_text
                + self.marker_text(self.fim.middle)
                + line_prefix
            )
            last_below = below[-1] if below else line
            pieces.append(Piece("suffix", uri, line, last_below, len(suffix_tokens), below_text))
            pieces.append(Piece("marker", uri, line, line, 3 + len(self.bos), ""))
        else:
            whole = self.tokenize(context_text + line_prefix)
            tokens = self.bos + whole
            text = "".join(self.marker_text(t) for t in self.bos) + context_text + line_prefix
            line_tokens = whole[len(context_tokens) :]
            if self.bos:
                pieces.append(Piece("marker", uri, line, line, len(self.bos), ""))
        pieces.append(Piece("line", uri, line, line, len(line_tokens), line_prefix))
        return Prompt(tokens, text, pieces, fmt, 0.0, line_prefix, line_suffix)
