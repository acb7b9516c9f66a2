"""Re-parses that can stop (read in chunks, with a progress check) keep no copy of the
text: py-tree-sitter 0.26 kept every chunk handed to it (~0.2 MB per keystroke in a
10,000-line file), and the store gives those references back."""

from __future__ import annotations

import tracemalloc

import pytest

from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry

BLOCK = '''
class Account{n}:
    """A ledger account."""

    def deposit(self, amount: int) -> None:
        self.balance = getattr(self, "balance", 0) + amount
'''


@pytest.mark.parametrize("budget_s", [1.0, 0.00005], ids=["finishes", "stops"])
def test_time_limited_re_parses_leave_no_memory_behind(budget_s: float):
    text = "".join(BLOCK.format(n=n) for n in range(2000))  # ~230 KB
    store = DocumentStore(LanguageRegistry())
    doc = store.open("file:///project/accounts.py", text, "python")
    at = text.index("amount: int", len(text) // 2)

    def type_and_read(count: int) -> None:
        nonlocal text
        for _ in range(count):
            text = text[:at] + "x" + text[at:]
            store.sync(doc.uri, text, "python")
            with doc.parse_budget(budget_s):
                assert doc.tree is not None

    type_and_read(3)  # caches and the parser's own buffers settle
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        type_and_read(30)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # kept chunks would be 30 x 64 KB or more; one text and its bytes are ~0.5 MB
    assert grown < 1_000_000, f"{grown / 1e6:.1f} MB kept after 30 re-parses"
    if budget_s == 1.0:
        assert not doc.parse_pending
        fresh = store.open("file:///project/fresh.py", text, "python")
        assert doc.tree is not None and fresh.tree is not None
        assert str(doc.tree.root_node) == str(fresh.tree.root_node)
    else:
        assert doc.parse_pending and doc.parse_timed_out
