"""Which definitions the code at the cursor is likely to need, best first.

A definition scores by how strongly the code around the cursor names it (identifiers
weighted by closeness, see ``signals.py``); members of the class the cursor is in get a
bonus (they are what ``self.``/``this.`` reaches), members of other classes count less
(a bare method name is ambiguous), and definitions edited lately count more. Every
top-level definition of the file and every imported name also gets a small prior that
grows with how often the file uses the name: code tends to call what the rest of its file
calls. Imported names are followed to their definitions in other workspace files.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from pathlib import Path
from typing import NamedTuple

from edgewise.context.documents import ParsedDocument
from edgewise.context.imports import Binding, bindings
from edgewise.context.outline import CONTAINERS, Definition, outline
from edgewise.context.query_table import Row
from edgewise.context.signals import Signals
from edgewise.context.workspace import Found, WorkspaceIndex

MEMBER_BONUS = 0.3  # a member of the enclosing class
OTHER_MEMBER = 0.5  # factor for members of other classes
RECENT_BONUS = 0.3  # a definition edited lately
POPULAR = 0.2  # prior per doubling of the uses of a name in the file
UNNAMED_KEPT = 120  # definitions with only a prior that are considered at all
IMPORTS_KEPT = 40  # imported names with only a prior that are followed
IMPORTED = 1.0  # factor for definitions found through imports
WILDCARD_NAMES = 24  # identifiers looked up through wildcard imports / includes
OVERLOAD = 0.25  # factor for the second and later declarations of one name
CONSTRUCTOR = 0.5  # a class named nearby: its constructor (often the name is only a type)
INHERITANCE_DEPTH = 3  # base classes of base classes … followed this far
SELF = ("self", "this", "cls", "super")  # what reaches the members of the enclosing class


class Candidate(NamedTuple):
    uri: str  # the file the definition is in
    path: Path | None
    row: Row[Definition]
    score: float
    same_file: bool

    @property
    def definition(self) -> Definition:
        return self.row.meta


def prior(uses: int) -> float:
    """How likely a name is needed anywhere in a file that uses it ``uses`` times."""
    return POPULAR * math.log2(1 + uses) if uses > 0 else 0.0


def enclosing_containers(
    rows: list[Row[Definition]], row: int
) -> tuple[set[str], set[int], list[str]]:
    """Names of the classes around ``row`` (with the same-file classes they derive from),
    the start bytes of every definition around it, and base class names not in the file."""
    names: set[str] = set()
    around: set[int] = set()
    bases: list[str] = []
    for item in rows:
        if item.start_row > row:
            break
        if item.start_row <= row <= item.end_row:
            around.add(item.start_byte)
            if item.meta.kind in CONTAINERS:
                names.add(item.meta.name)
                bases.extend(item.meta.bases)
    classes = {r.meta.name: r.meta for r in rows if r.meta.kind in CONTAINERS}
    outside: list[str] = []
    for _ in range(INHERITANCE_DEPTH):
        found: list[str] = []
        for base in bases:
            if base in names:
                continue
            if base in classes:
                names.add(base)
                found.extend(classes[base].bases)
            elif base not in outside:
                outside.append(base)
        bases = found
    return names, around, outside


def same_file(doc: ParsedDocument, row: int, signals: Signals) -> list[Candidate]:
    rows = outline(doc)
    classes, around, _ = enclosing_containers(rows, row)
    recent = sorted(signals.recent_rows)
    names = signals.names
    members = signals.members
    words = doc.lines.words()
    out: list[Candidate] = []
    unnamed: list[tuple[float, int, Row[Definition]]] = []
    for item in rows:
        definition = item.meta
        name = definition.name
        score = names.get(name, 0.0)
        container = definition.container
        if container is not None:
            if definition.constructor:
                score += CONSTRUCTOR * names.get(container, 0.0)
            if container in classes:
                score += MEMBER_BONUS + prior(words[name] - 1)
                for qualifier in SELF:
                    score += members.get((qualifier, name), 0.0)
            else:
                score *= OTHER_MEMBER
        if recent:
            index = bisect_left(recent, item.start_row)
            if index < len(recent) and recent[index] <= item.end_row:
                score += RECENT_BONUS
        if item.start_byte in around:
            continue  # its header is a scope header already
        if score > 0.0:
            if container is None:
                score += prior(words[name] - 1)
            out.append(Candidate(doc.uri, None, item, score, True))
        elif container is None:
            # nothing near the cursor names it: the file's use of it is the only hint
            unnamed.append((prior(words[name] - 1), -abs(item.start_row - row), item))
    unnamed.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    for score, _, item in unnamed[:UNNAMED_KEPT]:
        distance = abs(item.start_row - row)
        score = max(score, POPULAR / 4) / (1.0 + distance / 2000.0)
        out.append(Candidate(doc.uri, None, item, score, True))
    return out


def inherited(
    doc: ParsedDocument, row: int, signals: Signals, workspace: WorkspaceIndex
) -> list[Candidate]:
    """Members of the enclosing class's base classes defined in other files."""
    _, _, outside = enclosing_containers(outline(doc), row)
    if not outside:
        return []
    out: list[Candidate] = []
    by_local = {b.meta.local: b.meta for b in bindings(doc) if b.meta.kind in ("symbol", "default")}
    for base in outside:
        binding = by_local.get(base)
        if binding is None:
            continue
        for found in workspace.binding_targets(doc, binding, None):
            if found.row.meta.kind not in CONTAINERS:
                continue
            for member in workspace.members(found.path, found.row.meta.name):
                name = member.row.meta.name
                score = MEMBER_BONUS + signals.names.get(name, 0.0)
                score += sum(signals.members.get((q, name), 0.0) for q in SELF)
                out.append(Candidate(member.path.as_uri(), member.path, member.row, score, False))
    return out


def imported(doc: ParsedDocument, signals: Signals, workspace: WorkspaceIndex) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[tuple[Path, int]] = set()
    local_names = {row.meta.name for row in outline(doc) if row.meta.container is None}
    words = doc.lines.words()

    def add(found: list[Found], weight: float) -> None:
        for hit in found:
            key = (hit.path, hit.row.start_byte)
            if key not in seen:
                seen.add(key)
                out.append(
                    Candidate(hit.path.as_uri(), hit.path, hit.row, weight * IMPORTED, False)
                )
                if hit.row.meta.kind in CONTAINERS:
                    add(workspace.constructors(hit.path, hit.row.meta.name), weight * CONSTRUCTOR)

    wildcard_names: list[tuple[str, float]] | None = None
    popular: list[tuple[float, Binding]] = []
    for row in bindings(doc):
        binding = row.meta
        if binding.kind in ("symbol", "default"):
            weight = signals.names.get(binding.local, 0.0)
            if weight > 0.0:
                add(workspace.binding_targets(doc, binding, None), weight)
            else:
                # imported for a reason: used elsewhere in the file
                popular.append((prior(words[binding.local] - 1), binding))
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
    popular.sort(key=lambda entry: entry[0], reverse=True)
    for weight, binding in popular[:IMPORTS_KEPT]:
        add(workspace.binding_targets(doc, binding, None), max(weight, POPULAR / 4))
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
        candidates += inherited(doc, row, signals, workspace)
    best: dict[tuple[str, int], Candidate] = {}
    for candidate in candidates:  # one per definition, with its best score
        key = (candidate.uri, candidate.row.start_byte)
        if key not in best or best[key].score < candidate.score:
            best[key] = candidate
    # overloads (one name declared several times in a file): the first says the most
    seen: set[tuple[str, str | None, str]] = set()
    out: list[Candidate] = []
    for candidate in sorted(best.values(), key=lambda c: (c.uri, c.row.start_byte)):
        meta = candidate.definition
        name = (candidate.uri, meta.container, meta.name)
        if name in seen:
            candidate = candidate._replace(score=candidate.score * OVERLOAD)
        seen.add(name)
        out.append(candidate)
    return out


__all__ = ["Candidate", "rank"]
