"""The syntax gate: an edit that adds syntax errors is never offered as applicable."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Tree

from edgewise.context.languages import LanguageInfo


def count_errors(tree: Tree) -> int:
    """ERROR and MISSING nodes in the tree."""
    if not tree.root_node.has_error:
        return 0
    count = 0
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error:
            stack.extend(node.children)
    return count


@dataclass(frozen=True)
class Verdict:
    syntax_ok: bool | None
    reason: str


def verify_edit(language: LanguageInfo | None, before: str, after: str) -> Verdict:
    if language is None:
        return Verdict(None, "unknown language: syntax not checked")
    parser = language.parser()
    old = count_errors(parser.parse(before.encode("utf-8", "surrogatepass")))
    new = count_errors(parser.parse(after.encode("utf-8", "surrogatepass")))
    if new > old:
        return Verdict(False, f"the edit adds {new - old} syntax error(s) ({language.name})")
    return Verdict(True, f"re-parsed with tree-sitter ({language.name}): no new syntax errors")
