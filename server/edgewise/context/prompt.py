"""Assembles the completion prompt: what is sent to the model, piece by piece.

What goes in competes for the token budget by value per token: lines above and below
the cursor (worth less the farther they are), the headers of the enclosing scopes, and
the signatures of the definitions the code at the cursor names (``ranking.py``), from
this file and from the files it imports. A share of the budget always goes to the lines
around the cursor.

Order is stable across keystrokes so the model's KV cache reuses everything before the
cursor line: signatures first (other files, then this file, in file order), then the
scope headers, the lines above the cursor, then the suffix, and the current line up to
the cursor last (after the FIM "middle" marker, as llama.vim does). The cursor line's
share of the budget is reserved in steps, so typing along a line does not change what
else is chosen. Every token count is exact, from the model's own tokenizer: the final
text is tokenized whole and trimmed until it fits.
"""

from __future__ import annotations

import heapq
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from edgewise.context.documents import ParsedDocument
from edgewise.context.imports import bindings
from edgewise.context.outline import CONTAINERS, Definition, outline
from edgewise.context.positions import utf8_len
from edgewise.context.query_table import Row
from edgewise.context.ranking import Candidate, rank
from edgewise.context.recent_edits import RecentEdits, render_hunk
from edgewise.context.scopes import enclosing_scopes
from edgewise.context.signals import TermCache, gather, terms_of, whole_words
from edgewise.context.snippets import SnippetFinder, query_words, render_snippet
from edgewise.context.text_lines import line_content, split_lines
from edgewise.context.tokens import TokenCounter
from edgewise.context.workspace import WorkspaceIndex, uri_to_path
from edgewise.model.backend import FimTokens

__all__ = ["Neighbours", "Piece", "Prompt", "PromptBuilder", "Weights", "split_lines"]

Tokenize = Callable[[str], list[int]]

LINE_RESERVE_STEP = 16  # the cursor line's tokens are reserved in steps of this many
MAX_ROUNDS = 6  # assemble → count → trim or top up
KEPT_CHOICES = 2  # choices kept for reuse: the full budget's and a cold prompt's


@dataclass(frozen=True)
class Weights:
    """Value of each kind of context; selection takes the best value per token first."""

    above: float = 1.0  # a line right above the cursor
    above_scale: float = 25.0  # ... halves at this distance
    below: float = 0.6  # a line right below
    below_scale: float = 10.0
    signature: float = 12.0  # times the definition's score (ranking.py): a signature of a
    # definition the code names is worth more than a dozen lines of distant window
    header: float = 1000.0  # an enclosing scope header (always, if it fits)
    doc_line: float = 0.2  # a chosen signature's doc line, relative to the signature
    edit: float = 12.0  # the user's latest edit (a diff hunk), as a signature of score 1 ...
    edit_decay: float = 0.7  # ... each older one worth this much of the one after it
    snippet: float = 10.0  # times a snippet's similarity with the code at the cursor
    min_window_share: float = 0.3  # of the budget, lines around the cursor come first
    above_share: float = 0.75  # ... split ¾ above, ¼ below


@dataclass(frozen=True)
class Piece:
    kind: str  # snippet | edit | signature | container | label | scope_header | prefix |
    # suffix | line | marker
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
class Neighbours:
    """What the prompt may carry besides this document and the files it imports: the
    user's recent edits and the other open documents (for snippets that resemble the
    code at the cursor). Either may be off."""

    recent: RecentEdits | None = None
    documents: tuple[ParsedDocument, ...] = ()
    # which documents' text may go in (edits and snippets): the workspace's
    allowed: Callable[[str], bool] = lambda uri: True

    def key(self, uri: str, line: int) -> tuple[object, ...]:
        """What the extras depend on besides the lines above the cursor."""
        edits = self.recent.key(uri, line) if self.recent is not None else None
        return edits, tuple((d.uri, d.version) for d in self.documents)


@dataclass(eq=False)
class _Extra:
    """A snippet of another open file or a recent edit, ready to be chosen."""

    kind: str  # snippet | edit
    source: str
    start_line: int
    end_line: int
    text: str
    cost: int
    value: float
    order: tuple[int, str, int]  # where it goes: snippets by file and line, then edits
    chosen: bool = False


@dataclass(frozen=True)
class _BuildKey:
    """What the choice of context depends on, besides lines other than the cursor's."""

    uri: str
    line: int
    lines: int
    budget: int
    room: int
    words: tuple[object, ...]  # whole words of the cursor line
    indent: str
    headers: tuple[tuple[int, str], ...]
    workspace: int
    neighbours: tuple[object, ...] = ()


@dataclass(eq=False)
class _Header:
    row: int
    text: str
    cost: int


@dataclass(eq=False)
class _Sig:
    candidate: Candidate
    cost: int  # its own tokens, without its doc line
    doc_cost: int  # what its doc line adds (0: it has none)
    group: Row[Definition] | None  # the container it is shown under
    key: tuple[str, int]  # (uri, start byte)
    enclosing: _Header | None = None  # its container is a scope around the cursor
    chosen: bool = False
    with_doc: bool = False

    @property
    def text(self) -> str:
        meta = self.candidate.definition
        return meta.signature if self.with_doc else meta.short


@dataclass(eq=False)
class _Doc:
    """The doc line of a chosen signature: worth adding when the budget allows."""

    sig: _Sig


@dataclass
class _Selection:
    """What is chosen so far, in the order it was chosen."""

    above: int = 0  # lines above the cursor (contiguous)
    below: int = 0
    headers: list[_Header] = field(default_factory=list)
    sigs: list[_Sig] = field(default_factory=list)
    extras: list[_Extra] = field(default_factory=list)
    log: list[tuple[str, int | _Header | _Sig | _Extra]] = field(default_factory=list)


class _Selector:
    """Greedy choice by value per token, with the lines near the cursor first."""

    def __init__(
        self,
        builder: PromptBuilder,
        doc: ParsedDocument,
        line: int,
        fim: bool,
        headers: list[_Header],
        sigs: list[_Sig],
        workspace: WorkspaceIndex | None,
        extras: list[_Extra] | None = None,
    ) -> None:
        self.b = builder
        self.w = builder.weights
        self.doc = doc
        self.lines = doc.lines.lines
        self.line = line
        self.fim = fim
        self.sel = _Selection()
        self.spent = 0
        self.headers = headers
        self.sigs_by_row: dict[tuple[str, int], _Sig] = {}
        self.header_rows = {h.row for h in headers}
        self.open_groups: dict[tuple[str, int], int] = {}  # group -> members shown
        self.labels: set[str] = set()
        self.label_cost: dict[str, int] = {}
        self.group_cost: dict[tuple[str, int], int] = {}
        self.state = 0  # changes when what a signature costs may change
        self.context: tuple[object, list[Piece], str, list[int]] | None = None  # assembled
        self.workspace = workspace
        self.heap: list[tuple[float, int, _Sig | _Doc]] = []
        for sig in sigs:
            group = sig.group
            if group is not None and sig.candidate.same_file:
                last = group.start_row + group.meta.header_rows
                sig.enclosing = next((h for h in headers if group.start_row <= h.row <= last), None)
        self.counter_index = len(sigs)
        for index, sig in enumerate(sigs):
            if sig.candidate.score > 0:
                density = sig.candidate.score * self.w.signature / max(sig.cost, 1)
                heapq.heappush(self.heap, (-density, index, sig))
        self.above_done = False
        self.below_done = False
        # best value per token first; each is judged once per fill
        self.extras = sorted(extras or [], key=lambda e: -e.value / max(e.cost, 1))

    @property
    def revision(self) -> tuple[int, int, int, int]:
        """Changes whenever the choice does."""
        return len(self.sel.log), self.sel.above, self.sel.below, self.state

    # --- window ------------------------------------------------------------------------

    def _above_cost(self) -> int:
        return self.b.counter.count(self.lines[self.line - self.sel.above - 1])

    def _below_cost(self) -> int:
        return self.b.counter.count(self.lines[self.line + self.sel.below + 1])

    def window_rows(self) -> tuple[int, int]:
        return self.line - self.sel.above, self.line + self.sel.below

    def _covered(self, row_from: int, row_to: int) -> bool:
        first, last = self.window_rows()
        return first <= row_from and row_to <= last

    def take_above(self, budget: int) -> bool:
        if not self._more_above():
            self.above_done = True
            return False
        cost = self._above_cost()
        if self.spent + cost > budget:
            self.above_done = True
            return False
        self.sel.above += 1
        self.spent += cost
        self.sel.log.append(("above", cost))
        self.above_done = not self._more_above()
        self._refund(self.line - self.sel.above)
        return True

    def take_below(self, budget: int) -> bool:
        if not self._more_below():
            self.below_done = True
            return False
        cost = self._below_cost()
        if self.spent + cost > budget:
            self.below_done = True
            return False
        self.sel.below += 1
        self.spent += cost
        self.sel.log.append(("below", cost))
        self.below_done = not self._more_below()
        self._refund(self.line + self.sel.below)
        return True

    def _refund(self, row: int) -> None:
        """A header or same-file signature the window now shows is dropped."""
        if row in self.header_rows:
            for header in list(self.sel.headers):
                if header.row == row:
                    self.sel.headers.remove(header)
                    self.spent -= header.cost
                    self.state += 1
        sig = self.sigs_by_row.get((self.doc.uri, row))
        if sig is not None and sig.chosen:
            first = sig.candidate.row.start_row
            if self._covered(first, first + sig.candidate.definition.header_rows):
                self._drop_sig(sig)

    # --- signatures ----------------------------------------------------------------------

    def _label_cost(self, uri: str) -> int:
        if uri in self.labels:
            return 0
        cost = self.label_cost.get(uri)
        if cost is None:
            cost = self.b.counter.count(self.b.label(self.doc, uri, self.workspace))
            self.label_cost[uri] = cost
        return cost

    def _group_cost(self, sig: _Sig) -> int:
        group = sig.group
        if group is None:
            return 0
        gkey = (sig.key[0], group.start_byte)
        if self.open_groups.get(gkey, 0) > 0:
            return 0
        cost = self.group_cost.get(gkey)
        if cost is None:
            meta = group.meta
            counter = self.b.counter
            cost = counter.count_lines(meta.open_text) + counter.count(meta.close_text)
            self.group_cost[gkey] = cost
        return cost

    def sig_cost(self, sig: _Sig) -> int:
        if sig.enclosing is not None and sig.enclosing in self.sel.headers:
            return sig.cost  # shown under its scope header
        return sig.cost + self._group_cost(sig) + self._label_cost(sig.key[0])

    def _add_sig(self, sig: _Sig, cost: int) -> None:
        self.sel.sigs.append(sig)
        sig.chosen = True
        self.state += 1
        self.spent += cost
        self.labels.add(sig.key[0])
        if sig.group is not None:
            gkey = (sig.key[0], sig.group.start_byte)
            self.open_groups[gkey] = self.open_groups.get(gkey, 0) + 1
        row = sig.candidate.row
        for r in range(row.start_row, row.start_row + row.meta.header_rows + 1):
            self.sigs_by_row[(sig.key[0], r)] = sig
        self.sel.log.append(("sig", sig))
        if sig.doc_cost and not sig.with_doc:
            value = sig.candidate.score * self.w.signature * self.w.doc_line
            self.counter_index += 1
            heapq.heappush(self.heap, (-value / sig.doc_cost, self.counter_index, _Doc(sig)))

    def _drop_sig(self, sig: _Sig) -> None:
        self.sel.sigs.remove(sig)
        sig.chosen = False
        if sig.with_doc:
            sig.with_doc = False
            self.spent -= sig.doc_cost
        self.state += 1
        self.spent -= sig.cost
        if sig.group is not None:
            gkey = (sig.key[0], sig.group.start_byte)
            self.open_groups[gkey] -= 1

    def _sig_covered(self, sig: _Sig) -> bool:
        if not sig.candidate.same_file:
            return False
        first = sig.candidate.row.start_row
        return self._covered(first, first + sig.candidate.definition.header_rows)

    # --- the loop ------------------------------------------------------------------------

    def _more_above(self) -> bool:
        return self.line - self.sel.above > 0

    def _more_below(self) -> bool:
        return self.fim and self.line + self.sel.below + 1 < len(self.lines)

    def minimum_window(self, budget: int) -> None:
        """Lines around the cursor up to a share of the budget, ¾ above and ¼ below."""
        target = min(budget, int(budget * self.w.min_window_share))
        share = self.w.above_share if self.fim else 1.0
        above_tokens = below_tokens = 0
        while True:
            can_above = self._more_above() and self.spent + self._above_cost() <= target
            can_below = self._more_below() and self.spent + self._below_cost() <= target
            if not can_above and not can_below:
                break
            prefer_above = above_tokens * (1 - share) <= below_tokens * share
            before = self.spent
            if can_above and (prefer_above or not can_below):
                self.take_above(target)
                above_tokens += self.spent - before
            else:
                self.take_below(target)
                below_tokens += self.spent - before

    def fill(self, budget: int) -> None:
        """Take the best value per token until nothing else fits ``budget``."""
        w = self.w
        self.above_done = not self._more_above()
        self.below_done = not self._more_below()
        for header in self.headers:
            if header not in self.sel.headers and not self._covered(header.row, header.row):
                if self.spent + header.cost <= budget:
                    self.sel.headers.append(header)
                    self.spent += header.cost
                    self.sel.log.append(("header", header))
                    self.state += 1
        judged: tuple[_Sig, int, float] | None = None  # the top signature, as last judged
        while True:
            best: tuple[float, str] | None = None
            if not self.above_done:
                distance = self.sel.above + 1
                value = w.above / (1.0 + distance / w.above_scale)
                best = (value / max(self._above_cost(), 1), "above")
            if not self.below_done:
                distance = self.sel.below + 1
                value = w.below / (1.0 + distance / w.below_scale)
                density = value / max(self._below_cost(), 1)
                if best is None or density > best[0]:
                    best = (density, "below")
            extra = next(
                (e for e in self.extras if not e.chosen and self.spent + e.cost <= budget), None
            )
            if extra is not None:
                density = extra.value / max(extra.cost, 1)
                if best is None or density > best[0]:
                    best = (density, "extra")
            sig: _Sig | None = None
            doc: _Doc | None = None
            while self.heap:
                neg, index, top = self.heap[0]
                if isinstance(top, _Doc):
                    if not top.sig.chosen or top.sig.with_doc:
                        heapq.heappop(self.heap)
                        continue
                    doc = top
                    if best is None or -neg > best[0]:
                        best = (-neg, "doc")
                    break
                if (
                    judged is not None
                    and judged[0] is top
                    and judged[1] == self.state
                    and not self._sig_covered(top)
                ):
                    density = judged[2]
                else:
                    if top.chosen or self._sig_covered(top):
                        heapq.heappop(self.heap)
                        continue
                    cost = self.sig_cost(top)
                    density = top.candidate.score * w.signature / max(cost, 1)
                    if density < -neg - 1e-12:
                        heapq.heapreplace(self.heap, (-density, index, top))
                        continue
                    judged = (top, self.state, density)
                sig = top
                if best is None or density > best[0]:
                    best = (density, "sig")
                break
            if best is None:
                return
            if best[1] == "extra":
                assert extra is not None
                extra.chosen = True
                self.sel.extras.append(extra)
                self.spent += extra.cost
                self.sel.log.append(("extra", extra))
                self.state += 1
            elif best[1] == "above":
                self.take_above(budget)
            elif best[1] == "below":
                self.take_below(budget)
            elif best[1] == "doc":
                assert doc is not None
                heapq.heappop(self.heap)
                if self.spent + doc.sig.doc_cost <= budget:
                    doc.sig.with_doc = True
                    self.spent += doc.sig.doc_cost
                    self.sel.log.append(("doc", doc.sig))
            else:
                assert sig is not None
                heapq.heappop(self.heap)
                cost = self.sig_cost(sig)
                if self.spent + cost <= budget:
                    self._add_sig(sig, cost)

    def drop_last(self) -> bool:
        """Undo the last choice (to get under budget); False when nothing is left."""
        while self.sel.log:
            kind, item = self.sel.log.pop()
            if kind == "above" and isinstance(item, int) and self.sel.above > 0:
                self.sel.above -= 1
                self.spent -= item
                return True
            if kind == "below" and isinstance(item, int) and self.sel.below > 0:
                self.sel.below -= 1
                self.spent -= item
                return True
            if kind == "header" and isinstance(item, _Header) and item in self.sel.headers:
                self.sel.headers.remove(item)
                self.spent -= item.cost
                return True
            if kind == "sig" and isinstance(item, _Sig) and item.chosen:
                self._drop_sig(item)
                return True
            if kind == "extra" and isinstance(item, _Extra) and item.chosen:
                item.chosen = False
                self.sel.extras.remove(item)
                self.spent -= item.cost
                self.state += 1
                return True
            if kind == "doc" and isinstance(item, _Sig) and item.chosen and item.with_doc:
                item.with_doc = False
                self.spent -= item.doc_cost
                return True
        return False


class PromptBuilder:
    """Builds FIM or prefix-only prompts for one model's tokenizer."""

    def __init__(
        self,
        tokenize: Tokenize,
        tokenize_special: Tokenize,
        fim: FimTokens | None,
        marker_text: Callable[[int], str],
        bos: list[int] | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.tokenize = tokenize
        self.tokenize_special = tokenize_special
        self.fim = fim
        self.marker_text = marker_text
        self.bos = bos or []
        self.weights = weights or Weights()
        self.counter = TokenCounter(tokenize)
        self.terms = TermCache()
        # the last choice for each budget (the full one, and a cold prompt's cut one)
        self._last: dict[int, tuple[ParsedDocument, int, _BuildKey, _Selector]] = {}
        self._known: tuple[str, set[str] | None] | None = None  # see _relevant_words
        self._labels: dict[tuple[str, str], str] = {}
        self.snippets = SnippetFinder()

    def build(
        self,
        doc: ParsedDocument,
        line: int,
        character: int,
        budget: int,
        workspace: WorkspaceIndex | None = None,
        neighbours: Neighbours | None = None,
    ) -> Prompt:
        started = time.perf_counter()
        text_lines = doc.lines
        lines = text_lines.lines
        notes: list[str] = []
        if doc.note:
            notes.append(doc.note)
        line = max(0, min(line, len(lines) - 1))
        content = line_content(lines[line])
        if character > len(content):
            notes.append(f"column {character + 1} is past the end of line {line + 1}: clamped")
        character = max(0, min(character, len(content)))
        line_prefix = content[:character]
        line_suffix = lines[line][character:]
        fim = self.fim is not None
        fmt = "fim" if fim else "prefix"

        fixed = len(self.bos) + (3 if fim else 0)
        line_tokens = self.counter.count(line_prefix)
        reserve = (line_tokens // LINE_RESERVE_STEP + 1) * LINE_RESERVE_STEP
        suffix_tokens = self.counter.count(line_suffix) if fim else 0
        room = budget - fixed - max(reserve, line_tokens) - suffix_tokens
        if room < 0:
            room = budget - fixed - line_tokens - suffix_tokens
        room = max(room, 0)

        headers = self._headers(doc, line)
        if doc.tree is None and doc.language is not None and not doc.note:
            notes.append("no syntax tree: plain window context")
        key = _BuildKey(
            uri=doc.uri,
            line=line,
            lines=len(lines),
            budget=budget,
            room=room,
            words=self._relevant_words(doc, whole_words(line_prefix) + " " + line_suffix),
            indent=content[: len(content) - len(content.lstrip())],
            headers=tuple((h.row, h.text) for h in headers),
            workspace=id(workspace),
            neighbours=neighbours.key(doc.uri, line) if neighbours is not None else (),
        )
        selector = self._reuse(doc, key)
        if selector is None:
            sigs: list[_Sig] = []
            if doc.tree is not None:
                signals = gather(
                    text_lines, line, line_prefix, line_suffix, doc.recent_rows, self.terms
                )
                sigs = self._signatures(doc, rank(doc, line, signals, workspace), workspace)
                self._known = (doc.uri, _known_names(doc))
            extras = self._extras(doc, line, neighbours, workspace)
            selector = _Selector(self, doc, line, fim, headers, sigs, workspace, extras)
            selector.minimum_window(room)
            selector.fill(room)
        self._last = {b: kept for b, kept in self._last.items() if kept[0] is doc}
        self._last.pop(budget, None)  # the newest last
        self._last[budget] = (doc, doc.version, key, selector)
        while len(self._last) > KEPT_CHOICES:
            del self._last[next(iter(self._last))]
        prompt = self._assemble(doc, fmt, selector, line, line_prefix, line_suffix, workspace)
        for _ in range(MAX_ROUNDS):
            over = len(prompt.tokens) - budget
            if over > 0:
                # counts of the parts were close but BPE merges across them: trim
                if not selector.drop_last():
                    notes.append("budget too small for the current line")
                    break
            elif -over > 4 and room > 0:
                # the parts overestimated: top up with what is left
                before = (selector.sel.above, selector.sel.below, len(selector.sel.sigs))
                selector.fill(min(room, selector.spent - over - 1))
                after = (selector.sel.above, selector.sel.below, len(selector.sel.sigs))
                if before == after:
                    break
            else:
                break
            prompt = self._assemble(doc, fmt, selector, line, line_prefix, line_suffix, workspace)
        while len(prompt.tokens) > budget and selector.drop_last():
            prompt = self._assemble(doc, fmt, selector, line, line_prefix, line_suffix, workspace)
        if len(prompt.tokens) > budget:
            # the cursor line alone is too long: cut what follows the cursor from its end,
            # then what precedes it from its start (the text next to the cursor stays)
            def fits(prefix: str, suffix: str) -> Prompt:
                return self._assemble(doc, fmt, selector, line, prefix, suffix, workspace)

            keep = _longest(len(line_suffix), lambda k: fits(line_prefix, line_suffix[:k]), budget)
            sent_suffix = line_suffix[:keep]
            keep = _longest(
                len(line_prefix),
                lambda k: fits(line_prefix[len(line_prefix) - k :], sent_suffix),
                budget,
            )
            prompt = fits(line_prefix[len(line_prefix) - keep :], sent_suffix)
            prompt.line_prefix, prompt.line_suffix = line_prefix, line_suffix
            notes.append(
                f"budget of {budget} tokens too small for the cursor line: cut to "
                f"{keep} characters before the cursor and {len(sent_suffix)} after"
            )
            if len(prompt.tokens) > budget:
                notes.append(
                    f"the prompt format alone needs {len(prompt.tokens)} tokens, over the "
                    f"budget of {budget}"
                )
        prompt.notes = notes
        prompt.assembly_ms = (time.perf_counter() - started) * 1000.0
        return prompt

    def _relevant_words(self, doc: ParsedDocument, text: str) -> tuple[object, ...]:
        """The words of the cursor line that can change the choice: names the file defines
        or imports (every word, when a wildcard import can bring any name)."""
        names, members = terms_of(text)
        known = self._known[1] if self._known is not None and self._known[0] == doc.uri else None
        if known is None:
            return tuple(sorted(names)), tuple(sorted(members))
        return (
            tuple(sorted(n for n in names if n in known)),
            tuple(sorted(m for m in members if m[0] in known or m[1] in known)),
        )

    def forget(self, uri: str) -> None:
        """Drop what is kept of a closed document (the last choice holds it whole)."""
        self._last = {b: kept for b, kept in self._last.items() if kept[0].uri != uri}

    def _reuse(self, doc: ParsedDocument, key: _BuildKey) -> _Selector | None:
        """The previous choice, when only the cursor line changed since (typing along a
        line): what was chosen then is what would be chosen now."""
        kept = self._last.get(key.budget)
        if kept is None:
            return None
        last_doc, version, last_key, selector = kept
        if last_doc is not doc or last_key != key:
            return None
        edits = [entry for entry in doc.edit_log if entry[0] > version]
        if doc.version - version > len(edits):
            return None  # more edits than the log remembers
        line = key.line
        if any(first != line or last != line or added for _, first, last, added in edits):
            return None
        for sig in selector.sel.sigs:
            row = sig.candidate.row
            if (
                sig.candidate.same_file
                and row.start_row <= line <= row.start_row + row.meta.header_rows
            ):
                return None  # the cursor line is in a signature shown
        selector.doc = doc
        selector.lines = doc.lines.lines
        return selector

    # --- candidates ----------------------------------------------------------------------

    def _extras(
        self,
        doc: ParsedDocument,
        line: int,
        neighbours: Neighbours | None,
        workspace: WorkspaceIndex | None,
    ) -> list[_Extra]:
        """The recent edits and the snippets of other open documents that may go in."""
        if neighbours is None:
            return []
        comment = doc.language.spec.comment if doc.language is not None else "#"
        count = self.counter.count_lines
        out: list[_Extra] = []
        if neighbours.recent is not None:
            hunks = [
                h
                for h in neighbours.recent.latest(doc.uri, line)
                if h.uri == doc.uri or neighbours.allowed(h.uri)
            ]
            for age, hunk in enumerate(reversed(hunks)):
                text = render_hunk(hunk, self.name(doc, hunk.uri, workspace), comment)
                value = self.weights.edit * self.weights.edit_decay**age
                first, last = hunk.rows()
                order = (1, "", hunk.serial)  # after the snippets, oldest first
                out.append(_Extra("edit", hunk.uri, first, last, text, count(text), value, order))
        others = [
            d
            for d in neighbours.documents
            if d.uri != doc.uri and d.language == doc.language and neighbours.allowed(d.uri)
        ]
        if others:
            query = query_words(doc.lines.lines, line)
            found = self.snippets.find(query, ((d.uri, d.text, d.lines.lines) for d in others))
            for snip in found:
                text = render_snippet(snip, self.name(doc, snip.uri, workspace), comment)
                value = self.weights.snippet * snip.score
                order = (0, snip.uri, snip.start_line)
                out.append(
                    _Extra(
                        "snippet",
                        snip.uri,
                        snip.start_line,
                        snip.end_line,
                        text,
                        count(text),
                        value,
                        order,
                    )
                )
        return out

    def name(self, doc: ParsedDocument, uri: str, workspace: WorkspaceIndex | None) -> str:
        """How the prompt names the file ``uri`` (relative to its workspace root)."""
        label = self.label(doc, uri, workspace)
        comment = doc.language.spec.comment if doc.language is not None else "#"
        return label[len(comment) + 1 :].rstrip("\n")

    def _headers(self, doc: ParsedDocument, line: int) -> list[_Header]:
        if doc.tree is None:
            return []
        text_lines = doc.lines
        data = doc.data
        line_byte = utf8_len(doc.text[: text_lines.start(line)])
        content = text_lines.content(line)
        byte_offset = line_byte + utf8_len(content[: len(content) - len(content.lstrip())])
        headers: list[_Header] = []
        for scope in enclosing_scopes(doc, byte_offset):
            first_line = scope.node.start_point.row
            if first_line >= line:
                continue
            start, end = scope.header_bytes
            end = min(end, line_byte)  # not the comments on the way to the cursor line
            line_start = data.rfind(b"\n", 0, start) + 1
            text = data[line_start:end].decode("utf-8", "replace").rstrip() + "\n"
            headers.append(_Header(first_line, text, self.counter.count_lines(text)))
        return headers

    def _signatures(
        self, doc: ParsedDocument, candidates: list[Candidate], workspace: WorkspaceIndex | None
    ) -> list[_Sig]:
        out: list[_Sig] = []
        containers: dict[str, tuple[list[int], list[Row[Definition]]]] = {}
        for candidate in candidates:
            definition = candidate.definition
            group = None
            if definition.container is not None:
                table = containers.get(candidate.uri)
                if table is None:
                    rows = [
                        r
                        for r in self._outline_of(candidate, doc, workspace)
                        if r.meta.kind in CONTAINERS
                    ]
                    table = ([r.start_byte for r in rows], rows)
                    containers[candidate.uri] = table
                group = _container_of(table, candidate.row)
            cost = self.counter.count_lines(definition.short + "\n")
            doc_cost = 0
            if definition.signature != definition.short:
                doc_cost = max(self.counter.count_lines(definition.signature + "\n") - cost, 1)
            key = (candidate.uri, candidate.row.start_byte)
            out.append(_Sig(candidate, cost, doc_cost, group, key))
        return out

    @staticmethod
    def _outline_of(
        candidate: Candidate, doc: ParsedDocument, workspace: WorkspaceIndex | None
    ) -> list[Row[Definition]]:
        if candidate.same_file or candidate.path is None or workspace is None:
            return outline(doc)
        other = workspace.document(candidate.path)
        return outline(other) if other is not None else []

    def label(self, doc: ParsedDocument, uri: str, workspace: WorkspaceIndex | None) -> str:
        """The comment line naming the file a group of signatures comes from."""
        comment = doc.language.spec.comment if doc.language is not None else "#"
        key = (uri, comment)
        cached = self._labels.get(key)
        if cached is not None:
            return cached
        path = uri_to_path(uri)
        name = uri
        if path is not None:
            name = path.name
            for root in workspace.roots if workspace is not None and uri != doc.uri else []:
                if root in path.parents:
                    name = path.relative_to(root).as_posix()
                    break
        text = f"{comment} {name}\n"
        self._labels[key] = text
        return text

    # --- assembly ------------------------------------------------------------------------

    def _group_pieces(self, uri: str, sigs: list[_Sig], skip: set[int]) -> list[Piece]:
        """Signatures of one file in file order, members under their container's header
        (unless the container is in ``skip``: a scope header shows it already)."""
        count = self.counter.count_lines
        groups = {
            s.group.start_byte: s.group
            for s in sigs
            if s.group is not None and s.group.start_byte not in skip
        }
        shown = {s.candidate.row.start_byte for s in sigs}
        entries: list[tuple[int, int, str, object]] = []
        for sig in sigs:
            row = sig.candidate.row
            if row.start_byte not in groups:
                entries.append((row.start_byte, -row.end_byte, "sig", sig))
        for start, group in groups.items():
            entries.append((start, -group.end_byte, "open", group))
        entries.sort(key=lambda e: (e[0], e[1]))
        pieces: list[Piece] = []
        stack: list[Row[Definition]] = []

        def close(until: int) -> None:
            while stack and stack[-1].end_byte <= until:
                closed = stack.pop()
                if closed.meta.close_text:
                    text = closed.meta.close_text + "\n"
                    row = closed.end_row
                    pieces.append(Piece("container", uri, row, row, count(text), text))

        for start, _, _kind, item in entries:
            close(start)
            if isinstance(item, Row):
                text = item.meta.open_text + "\n"
                name = "signature" if item.start_byte in shown else "container"
                end = item.start_row + item.meta.header_rows
                pieces.append(Piece(name, uri, item.start_row, end, count(text), text))
                stack.append(item)
            else:
                assert isinstance(item, _Sig)
                row = item.candidate.row
                text = item.text + "\n"
                end = row.start_row + row.meta.header_rows
                tokens = item.cost + (item.doc_cost if item.with_doc else 0)
                pieces.append(Piece("signature", uri, row.start_row, end, tokens, text))
        close(1 << 62)
        return pieces

    def _context_pieces(
        self, doc: ParsedDocument, selector: _Selector, workspace: WorkspaceIndex | None
    ) -> list[Piece]:
        """Everything before the lines above the cursor: snippets of other open files and
        the user's recent edits (oldest first), signatures from other files, then from
        this file, then the scope headers with the members shown under them."""
        first, _ = selector.window_rows()
        headers = sorted((h for h in selector.sel.headers if h.row < first), key=lambda h: h.row)
        by_file: dict[str, list[_Sig]] = {}
        under: dict[int, list[_Sig]] = {}
        for sig in selector.sel.sigs:
            if sig.enclosing is not None and sig.enclosing in headers:
                under.setdefault(sig.enclosing.row, []).append(sig)
            else:
                by_file.setdefault(sig.key[0], []).append(sig)
        pieces: list[Piece] = [
            Piece(e.kind, e.source, e.start_line, e.end_line, e.cost, e.text)
            for e in sorted(selector.sel.extras, key=lambda e: e.order)
        ]
        if by_file and doc.uri not in by_file:
            by_file[doc.uri] = []  # name this file too, after the others
        for uri in sorted(by_file, key=lambda u: (u == doc.uri, u)):
            label = self.label(doc, uri, workspace)
            pieces.append(Piece("label", uri, 0, 0, self.counter.count(label), label))
            sigs = sorted(by_file[uri], key=lambda s: s.candidate.row.start_byte)
            pieces += self._group_pieces(uri, sigs, set())
        for header in headers:
            pieces.append(
                Piece("scope_header", doc.uri, header.row, header.row, header.cost, header.text)
            )
            members = sorted(under.get(header.row, []), key=lambda s: s.candidate.row.start_byte)
            if members:
                skip = {s.group.start_byte for s in members if s.group is not None}
                pieces += self._group_pieces(doc.uri, members, skip)
        return pieces

    def _assemble(
        self,
        doc: ParsedDocument,
        fmt: str,
        selector: _Selector,
        line: int,
        line_prefix: str,
        line_suffix: str,
        workspace: WorkspaceIndex | None,
    ) -> Prompt:
        uri = doc.uri
        lines = doc.lines.lines
        first, last = selector.window_rows()
        # what precedes the cursor line only changes with the choice: typing along a line
        # (the choice reused, see _reuse) assembles it once
        key = (selector.revision, line, first)
        if selector.context is not None and selector.context[0] == key:
            _, context_pieces, context_text, context_tokens = selector.context
        else:
            context_pieces = self._context_pieces(doc, selector, workspace)
            above_text = "".join(lines[first:line])
            context_text = "".join(p.text for p in context_pieces) + above_text
            context_tokens = self.counter.encode(context_text)
            # each piece counts its own text; BPE merges across pieces make the whole a
            # little different: the last piece before the cursor line absorbs the difference
            rest = len(context_tokens) - sum(p.tokens for p in context_pieces)
            if selector.sel.above:
                context_pieces.append(Piece("prefix", uri, first, line - 1, rest, above_text))
            elif context_pieces:
                last_piece = context_pieces[-1]
                context_pieces[-1] = replace(last_piece, tokens=last_piece.tokens + rest)
            selector.context = (key, context_pieces, context_text, context_tokens)
        pieces = list(context_pieces)
        line_tokens = self.counter.encode(line_prefix)
        if fmt == "fim":
            assert self.fim is not None
            below_text = line_suffix + "".join(lines[line + 1 : last + 1])
            suffix_tokens = self.counter.encode(below_text)
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
            pieces.append(Piece("suffix", uri, line, last, len(suffix_tokens), below_text))
            pieces.append(Piece("marker", uri, line, line, 3 + len(self.bos), ""))
        else:
            whole = self.counter.encode(context_text + line_prefix)
            tokens = self.bos + whole
            text = "".join(self.marker_text(t) for t in self.bos) + context_text + line_prefix
            line_tokens = whole[len(context_tokens) :]
            if self.bos:
                pieces.append(Piece("marker", uri, line, line, len(self.bos), ""))
        pieces.append(Piece("line", uri, line, line, len(line_tokens), line_prefix))
        return Prompt(tokens, text, pieces, fmt, 0.0, line_prefix, line_suffix)


def _known_names(doc: ParsedDocument) -> set[str] | None:
    """Names the ranking can react to in ``doc``; None when any name can matter."""
    names = {"self", "this", "cls", "super"}
    for row in outline(doc):
        names.add(row.meta.name)
        if row.meta.container:
            names.add(row.meta.container)
    for binding in bindings(doc):
        if binding.meta.kind == "wildcard":
            return None
        names.add(binding.meta.local)
    return names


def _longest(size: int, attempt: Callable[[int], Prompt], budget: int) -> int:
    """The largest ``k`` in ``0..size`` whose prompt fits the budget (0 if none does)."""
    low, high = 0, size
    while low < high:
        middle = (low + high + 1) // 2
        if len(attempt(middle).tokens) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _container_of(
    table: tuple[list[int], list[Row[Definition]]], member: Row[Definition]
) -> Row[Definition] | None:
    """The innermost container row that holds ``member``."""
    starts, rows = table
    index = bisect_right(starts, member.start_byte) - 1
    stop = max(index - 64, -1)  # earlier siblings are skipped, but not forever
    while index > stop:
        row = rows[index]
        if member.end_byte <= row.end_byte and row is not member:
            return row
        index -= 1
    return None
