"""Edits as changes to texts, and the checks every edit passes before it is offered:
it stays inside the range its action claims (plus whole import lines where the action
needs them), keeps the document's indentation and line endings, and leaves every other
character byte-identical -- including after the round trip through LSP positions."""

from __future__ import annotations

from dataclasses import dataclass

from edgewise.actions.base import eol_of, indentation, line_start
from edgewise.context.languages import LanguageInfo
from edgewise.context.positions import LineIndex, Pos

IMPORT_NODES = {
    "python": {"import_statement", "import_from_statement", "future_import_statement"},
    "javascript": {"import_statement"},
    "typescript": {"import_statement"},
    "tsx": {"import_statement"},
}


@dataclass(frozen=True)
class TextChange:
    """Replace ``text[start:end]`` (character offsets) by ``new_text``."""

    start: int
    end: int
    new_text: str


@dataclass
class FileEdit:
    """The changes to one file: the action's own change (``main``), inside the range it
    claims, and at most one insertion of whole import lines. ``before`` is the text they
    apply to ("" for a file the edit creates)."""

    uri: str
    before: str
    main: TextChange
    imports: TextChange | None = None
    claimed: tuple[int, int] = (0, 0)
    import_offset: int | None = None
    create: bool = False
    version: int | None = None
    language: LanguageInfo | None = None

    @property
    def changes(self) -> list[TextChange]:
        found = [self.main] if self.imports is None else [self.imports, self.main]
        return sorted(found, key=lambda c: (c.start, c.end, c is self.main))

    @property
    def after(self) -> str:
        return apply_changes(self.before, self.changes)

    def positions(self, encoding: str) -> list[tuple[Pos, Pos, str]]:
        """Each change as an LSP range (positions in ``before``) and its new text."""
        index = LineIndex(self.before, encoding)
        return [(index.position(c.start), index.position(c.end), c.new_text) for c in self.changes]

    def main_start_after(self) -> int:
        """Where the action's own text starts in the edited text."""
        shift = 0
        if self.imports is not None and self.imports.start <= self.main.start:
            shift = len(self.imports.new_text) - (self.imports.end - self.imports.start)
        return self.main.start + shift


def apply_changes(text: str, changes: list[TextChange]) -> str:
    out: list[str] = []
    cursor = 0
    for change in sorted(changes, key=lambda c: (c.start, c.end)):
        out.append(text[cursor : change.start])
        out.append(change.new_text)
        cursor = change.end
    out.append(text[cursor:])
    return "".join(out)


def check_edit(edit: FileEdit, encoding: str = "utf-16") -> str | None:
    """Why the edit must not be offered, or None when it keeps every promise."""
    before, changes = edit.before, edit.changes
    if edit.imports is not None and not _is_import_insertion(edit, edit.imports):
        return "the edit adds lines that are not imports outside the range it claims"
    claimed_start, claimed_end = edit.claimed
    previous_end = -1
    for change in changes:
        if not 0 <= change.start <= change.end <= len(before):
            return "the edit points outside the document"
        if change.start < previous_end:
            return "the edit has overlapping changes"
        previous_end = change.end
        inside = claimed_start <= change.start and change.end <= claimed_end
        if change is edit.main and not inside:
            return "the edit reaches outside the range it claims"
    eol = eol_of(before) if before else eol_of(edit.after)
    for change in changes:
        problem = _line_endings(change.new_text, eol) or _indentation(before, change)
        if problem:
            return problem
    return _untouched(edit, encoding)


def _is_import_insertion(edit: FileEdit, change: TextChange) -> bool:
    """A change outside the claimed range is allowed only as whole import lines inserted
    at the action's import point."""
    if edit.import_offset is None or (change.start, change.end) != (edit.import_offset,) * 2:
        return False
    if line_start(edit.before, change.start) != change.start or not change.new_text.endswith("\n"):
        return False
    language = edit.language
    allowed = IMPORT_NODES.get(language.name, set()) if language else set()
    if language is None or not allowed:
        return False
    tree = language.parser().parse(change.new_text.encode("utf-8", "surrogatepass"))
    root = tree.root_node
    return (
        not root.has_error
        and root.named_child_count > 0
        and all(node.type in allowed or node.type == "comment" for node in root.named_children)
    )


def _line_endings(text: str, eol: str) -> str | None:
    if eol == "\r\n":
        if text.replace("\r\n", "").count("\n") or text.replace("\r\n", "").count("\r"):
            return "the edit mixes line endings into a CRLF document"
    elif "\r" in text:
        return "the edit mixes CR line endings into an LF document"
    return None


def _indentation(before: str, change: TextChange) -> str | None:
    """Every line the change starts must begin with the indentation of the line the
    claimed range starts on (tabs stay tabs, spaces stay spaces)."""
    base = indentation(before, change.start)
    lines = change.new_text.replace("\r\n", "\n").split("\n")
    starts_line = line_start(before, change.start) == change.start
    for number, line in enumerate(lines):
        if number == 0 and not starts_line:
            continue
        if number == len(lines) - 1 and not line:
            continue  # the text ends with a line break
        if line.strip() and not line.startswith(base):
            return f"the edit breaks the indentation (line {number + 1} does not start with the block's indentation)"
    return None


def _untouched(edit: FileEdit, encoding: str) -> str | None:
    """The text before the first change, after the last change and between changes is
    byte-identical in the edited text, and the LSP ranges sent to the editor, applied by
    an editor to ``before``, give exactly the edited text."""
    before, after, changes = edit.before, edit.after, edit.changes
    if not edit.create and after == before:
        return "the edit changes nothing"
    first, last = changes[0].start, changes[-1].end
    if (
        after[:first] != before[:first]
        or after[len(after) - (len(before) - last) :] != before[last:]
    ):
        return "the edit would change text outside its range"
    cursor = first
    for change in changes:
        gap = before[cursor : change.start]
        if gap not in after:
            return "the edit would change text between its changes"
        cursor = change.end
    index = LineIndex(before, encoding)
    replayed = before
    for start, end, text in reversed(edit.positions(encoding)):
        a, b = index.offset(start), index.offset(end)
        replayed = replayed[:a] + text + replayed[b:]
    if replayed != after:
        return "the edit's LSP ranges do not reproduce it"
    return None
