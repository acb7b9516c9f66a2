"""Syntax trees of open documents, kept current incrementally.

The canonical text stays in the pygls workspace. After every change the store diffs the
new text against the text its tree was built from, tells tree-sitter what changed
(``tree.edit``) and re-parses with the old tree, so a keystroke re-parses only what it
touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Parser, Point, Tree

from edgewise.context.languages import LanguageInfo, LanguageRegistry

MAX_PARSE_BYTES = 2 * 1024 * 1024


def common_prefix_len(a: str, b: str) -> int:
    """Length of the common prefix, by binary search over C-level slice compares."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix_len(a: str, b: str, limit: int) -> int:
    lo, hi = 0, min(len(a), len(b)) - limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid : len(a) - lo] == b[len(b) - mid : len(b) - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def point_at(text: str, offset: int) -> Point:
    """tree-sitter point (row, byte column) of a character offset."""
    row = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return Point(row, len(text[line_start:offset].encode("utf-8")))


@dataclass
class ParsedDocument:
    uri: str
    language: LanguageInfo | None
    text: str
    tree: Tree | None = None
    note: str = ""  # why there is no tree, when there is none
    _parser: Parser | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")

    def parse_full(self) -> None:
        self.tree = None
        if self.language is None:
            self.note = "unknown language: plain window context"
            return
        data = self.text.encode("utf-8", "surrogatepass")
        if len(data) > MAX_PARSE_BYTES:
            self.note = f"file over {MAX_PARSE_BYTES // (1024 * 1024)} MB: plain window context"
            return
        if b"\x00" in data:
            self.note = "binary file: plain window context"
            return
        self.note = ""
        if self._parser is None:
            self._parser = self.language.parser()
        self.tree = self._parser.parse(data)

    def update(self, new_text: str) -> None:
        """Bring the tree to ``new_text`` with one incremental edit."""
        old_text = self.text
        if new_text == old_text:
            return
        self.text = new_text
        if self.tree is None or self._parser is None:
            self.parse_full()
            return
        data = new_text.encode("utf-8", "surrogatepass")
        if len(data) > MAX_PARSE_BYTES or b"\x00" in data:
            self.parse_full()
            return
        start = common_prefix_len(old_text, new_text)
        suffix = common_suffix_len(old_text, new_text, start)
        old_end = len(old_text) - suffix
        new_end = len(new_text) - suffix
        start_byte = len(old_text[:start].encode("utf-8", "surrogatepass"))
        old_end_byte = start_byte + len(old_text[start:old_end].encode("utf-8", "surrogatepass"))
        new_end_byte = start_byte + len(new_text[start:new_end].encode("utf-8", "surrogatepass"))
        self.tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=new_end_byte,
            start_point=point_at(old_text, start),
            old_end_point=point_at(old_text, old_end),
            new_end_point=point_at(new_text, new_end),
        )
        self.tree = self._parser.parse(data, self.tree)


class DocumentStore:
    """The parsed documents of one server (or one batch run)."""

    def __init__(self, languages: LanguageRegistry) -> None:
        self.languages = languages
        self._docs: dict[str, ParsedDocument] = {}

    def open(self, uri: str, text: str, language_id: str | None = None) -> ParsedDocument:
        doc = ParsedDocument(uri, self.languages.for_document(uri, language_id), text)
        doc.parse_full()
        self._docs[uri] = doc
        return doc

    def sync(self, uri: str, text: str, language_id: str | None = None) -> ParsedDocument:
        """The parsed document for ``uri`` at exactly ``text``."""
        doc = self._docs.get(uri)
        if doc is None:
            return self.open(uri, text, language_id)
        doc.update(text)
        return doc

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def get(self, uri: str) -> ParsedDocument | None:
        return self._docs.get(uri)
