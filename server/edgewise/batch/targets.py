"""Targets: the scopes of a file that an action applies to.

Generic over the action catalog: every definition and scope the language's queries
know (``docstring.scm`` @definition, ``scopes.scm`` @scope) is offered to the action's
own finder, exactly as the editor offers the range under the cursor; what the finder
returns is the target. The engine later finds the same target again from its range.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Node, QueryCursor

from edgewise.actions.base import ActionContext, Target, Workspace
from edgewise.actions.catalog import ActionSpec
from edgewise.context.documents import ParsedDocument

# Query files whose captures name the candidate scopes of a file, and those captures.
CANDIDATE_QUERIES = (("docstring", "definition"), ("scopes", "scope"))
NAMED_CHILD_TYPES = ("variable_declarator", "assignment")


@dataclass(frozen=True)
class FoundTarget:
    target: Target
    symbol: str  # qualified name, unique in the file ("Counter.bump", "helper#2")
    start_byte: int
    end_byte: int


def candidate_nodes(doc: ParsedDocument) -> list[Node]:
    """The whole file, then every definition and scope the language's queries know."""
    if doc.tree is None or doc.language is None:
        return []
    root = doc.tree.root_node
    found: dict[tuple[int, int], Node] = {(root.start_byte, root.end_byte): root}
    for kind, capture in CANDIDATE_QUERIES:
        query = doc.language.query(kind)
        if query is None:
            continue
        for _, captures in QueryCursor(query).matches(doc.tree.root_node):
            for node in captures.get(capture, []):
                found.setdefault((node.start_byte, node.end_byte), node)
    return [found[key] for key in sorted(found)]


def node_name(node: Node) -> str | None:
    name = node.child_by_field_name("name")
    declaration = node.child_by_field_name("declaration")  # `export function f`
    if name is None and declaration is not None:
        return node_name(declaration)
    if name is None:
        for child in node.named_children:
            if child.type in NAMED_CHILD_TYPES:
                name = child.child_by_field_name("name") or child.child_by_field_name("left")
                break
    if name is None or name.text is None:
        return None
    return name.text.decode("utf-8", "replace")


def qualified_name(node: Node) -> str:
    if node.parent is None:
        return "<module>"
    parts: list[str] = []
    current: Node | None = node
    while current is not None:
        if current.child_by_field_name("body") is not None or current is node:
            name = node_name(current)
            if name:
                parts.append(name)
        current = current.parent
    if not parts:
        return f"<{node.type} line {node.start_point.row + 1}>"
    return ".".join(reversed(parts))


def node_of(doc: ParsedDocument, start_byte: int, end_byte: int) -> Node | None:
    if doc.tree is None:
        return None
    node = doc.tree.root_node.descendant_for_byte_range(start_byte, end_byte)
    while node is not None and (node.start_byte, node.end_byte) != (start_byte, end_byte):
        node = node.parent
    return node


Finder = Callable[[ParsedDocument, int, int], "Target | None"]


def finder(spec: ActionSpec, instruction: str = "", workspace: Workspace | None = None) -> Finder:
    """The action's target finder as (document, start byte, end byte) -> target, with
    the instruction and the workspace an action may look at."""
    seen = workspace if workspace is not None else Workspace()

    def find(doc: ParsedDocument, start_byte: int, end_byte: int) -> Target | None:
        context = ActionContext(doc, start_byte, end_byte, instruction=instruction, workspace=seen)
        return spec.find(context)

    return find


def find_targets(
    doc: ParsedDocument, spec: ActionSpec, find: Finder | None = None
) -> list[FoundTarget]:
    """Every distinct target of ``spec`` in the document, in source order."""
    if doc.language is None or doc.language.name not in spec.languages:
        return []
    find = find or finder(spec)
    targets: dict[tuple[int, int], tuple[Target, Node]] = {}
    for node in candidate_nodes(doc):
        target = find(doc, node.start_byte, node.end_byte)
        if target is None or (node.parent is None and target.kind != "module"):
            continue  # the whole file is offered for module-level actions only
        targets.setdefault((target.start_byte, target.end_byte), (target, node))
    out: list[FoundTarget] = []
    seen: Counter[str] = Counter()
    for (start, end), (target, candidate) in sorted(targets.items()):
        # named by its own node, else by the scope it was found from (a range of lines)
        node = node_of(doc, start, end) or candidate
        base = qualified_name(node)
        seen[base] += 1
        symbol = base if seen[base] == 1 else f"{base}#{seen[base]}"
        out.append(FoundTarget(target, symbol, start, end))
    return out
