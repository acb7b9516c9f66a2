"""Which definitions the code at the cursor is likely to need, best first.

A definition scores by how strongly the code around the cursor names it (identifiers
weighted by closeness, see ``signals.py``); members of the class the cursor is in get a
bonus (they are what ``self.``/``this.`` reaches), members of other classes count less
(a bare method name is ambiguous), and definitions edited lately count more. Imported
names are followed to their definitions in other workspace files.
"""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path
from typing import NamedTuple

from edgewise.context.documents import ParsedDocument
from edgewise.context.imports import bindings
from edgewise.context.outline import CONTAINERS, Definition, outline
from edgewise.context.query_table import Row
from edgewise.context.signals import Signals
from edgewise.context.workspace import Found, WorkspaceIndex

MEMBER_BONUS = 0.3  # a member of the enclosing class
OTHER_MEMBER = 0.5  # factor for members of other classes
RECENT_BONUS = 0.3  # a definition edited lately
UNUSED = 0.02  # a same-file definition nothing nearby names (fills spare budget)
UNUSED_KEPT = 80  # ... only the nearest ones
IMPORTED = 1.0  # factor for definitions found through imports
WILDCARD_NAMES = 24  # identifiers looked up through wildcard imports / includes


class Candidate(NamedTuple):
    uri: str  # the file the definition is in
    path: Path | None
    row: Row[Definition]
    score: float
    same_file: bool

    @property
    def definition(self) -> Definition:
        return self.row.meta


def enclosing_containers(rows: list[Row[Definition]], row: int) -> tuple[set[str], set[int]]:
    """Names of the classes around ``row`` and the start bytes of every definition around it."""
    names: set[str] = set()
    around: set[int] = set()
    for item in rows:
        if item.start_row > row:
            break
        if item.start_row <= row <= item.end_row:
            around.add(item.start_byte)
            if item.meta.kind in CONTAINERS:
                names.add(item.meta.name)
    return names, around


def same_file(doc: ParsedDocument, row: int, signals: Signals) -> list[Candidate]:
    rows = outline(doc)
    classes, around = enclosing_containers(rows, row)
    recent = sorted(signals.recent_rows)
    names = signals.names
    members = signals.members
    out: list[Candidate] = []
    unused: list[Row[Definition]] = []
    for item in rows:
        definition = item.meta
        score = names.get(definition.name, 0.0)
        container = definition.container
        if container is not None:
            if definition.constructor:
                score += names.get(container, 0.0)
            if container in classes:
                score += MEMBER_BONUS
                for qualifier in ("self", "this", "cls"):
                    score += members.get((qualifier, definition.name), 0.0)
            else:
                score *= OTHER_MEMBER
        if recent:
            index = bisect_left(recent, item.start_row)
            if index < len(recent) and recent[index] <= item.end_row:
                score += RECENT_BONUS
        if item.start_byte in around:
            continue  # its header is a scope header already
        if score > 0.0:
            out.append(Candidate(doc.uri, None, item, score, True))
        elif container is None:
            unused.append(item)
    # the nearest ones: unused is in file order, so take a slice around the cursor
    split = bisect_left([r.start_row for r in unused], row)
    half = UNUSED_KEPT // 2
    for item in unused[max(split - half, 0) : split + half]:
        score = UNUSED / (1.0 + abs(item.start_row - row) / 200.0)
        out.append(Candidate(doc.uri, None, item, score, True))
    return out


def imported(doc: ParsedDocument, signals: Signals, workspace: WorkspaceIndex) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[tuple[Path, int]] = set()
    local_names = {row.meta.name for row in outline(doc) if row.meta.container is None}

    def add(found: list[Found], weight: float) -> None:
        for hit in found:
            key = (hit.path, hit.row.start_byte)
            if key not in seen:
                seen.add(key)
                out.append(
                    Candidate(hit.path.as_uri(), hit.path, hit.row, weight * IMPORTED, False)
                )
                if hit.row.meta.kind in CONTAINERS:
                    add(workspace.constructors(hit.path, hit.row.meta.name), weight)

    wildcard_names: list[tuple[str, float]] | None = None
    for row in bindings(doc):
        binding = row.meta
        if binding.kind in ("symbol", "default"):
            weight = signals.names.get(binding.local, 0.0)
            if weight > 0.0:
                add(workspace.binding_targets(doc, binding, None), weight)
        elif binding.kind == "module":
            for (qualifier, member), weight in signals.members.items():
                if qualifier == binding.local:
                    add(workspace.binding_targets(doc, binding, member), weight)
        elif binding.kind == "wildcard":
            if wildcard_names is None:
                ranked = sorted(signals.names.items(), key=lambda kv: -kv[1])
                wildcard_names = [kv for kv in ranked if kv[0] not in local_names][:WILDCARD_NAMES]
            for name, weight in wildcard_names:
                add(workspace.binding_targets(doc, binding, name), weight)
    return out


def rank(
    doc: ParsedDocument, row: int, signals: Signals, workspace: WorkspaceIndex | None
) -> list[Candidate]:
    """Candidates from this file and, through its imports, from the workspace."""
    if doc.tree is None:
        return []
    candidates = same_file(doc, row, signals)
    if workspace is not None:
        candidates += imported(doc, signals, workspace)
    return candidates
