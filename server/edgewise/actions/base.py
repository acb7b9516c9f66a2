"""What an action works on, what it may change, and how model text becomes that change.

Offsets are Python character offsets into a document's text (the text the editor sent,
line endings included); tree-sitter byte offsets are converted with :func:`char_offset`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edgewise.context.documents import ParsedDocument
from edgewise.context.languages import LanguageInfo

# Returns the number of characters of the model's text to keep when it must stop there.
StopCheck = Callable[[str], int | None]


class RenderError(Exception):
    """The model's reply cannot be turned into this action's edit (the message says why)."""


@dataclass(frozen=True)
class DiagnosticInfo:
    """A diagnostic another server published (a linter, a type checker) to fix."""

    message: str
    code: str
    source: str
    start_byte: int
    end_byte: int
    range: Mapping[str, object]  # the LSP range, echoed back to the client


@dataclass(frozen=True)
class FileText:
    """A file of the workspace as the editor sees it (open buffer first, else disk)."""

    path: Path
    uri: str
    text: str
    version: int | None  # the open buffer's version; None when read from disk


@dataclass(frozen=True)
class Workspace:
    """The workspace folders and how to read a file of them. Actions never touch a file
    outside ``roots``."""

    roots: tuple[Path, ...] = ()
    read: Callable[[Path], FileText | None] = field(default=lambda path: None)

    def root_of(self, path: Path) -> Path | None:
        """The workspace folder that contains ``path`` (symlinks resolved), or None."""
        try:
            real = path.resolve()
        except OSError:
            return None
        for root in self.roots:
            try:
                real.relative_to(root.resolve())
            except (ValueError, OSError):
                continue
            return root.resolve()
        return None


@dataclass(frozen=True)
class ActionContext:
    """Everything an action's target finder may look at (cheap: called while listing)."""

    doc: ParsedDocument
    start_byte: int
    end_byte: int
    diagnostic: DiagnosticInfo | None = None
    instruction: str = ""
    workspace: Workspace = field(default_factory=Workspace)


@dataclass(frozen=True)
class Target:
    """A byte range of the document (a function, a class, a selection) and its text."""

    start_byte: int
    end_byte: int
    code: str
    kind: str  # function | class | method | module | selection | lines
    fields: Mapping[str, str] = field(default_factory=dict)  # extra prompt fields
    name: str = ""


@dataclass(frozen=True)
class Rendered:
    """The text that replaces the plan's claimed range, and import lines it needs."""

    text: str
    imports: str = ""  # whole import lines, inserted at the plan's import point


@dataclass(frozen=True)
class Hole:
    """A place in the target file the model fills in, for a model without a chat
    template: the file's text before it (its opening written: triple quotes, ``: ``), the text
    after it, and where the infill ends. With fill-in-the-middle tokens the model sees
    both sides; without, only the text before (a plain prefix prompt)."""

    before: str
    after: str
    stop: StopCheck  # picklable (model/stops.py): it runs in the model process
    max_tokens: int | None = None  # a type is short: fewer than ``actionMaxTokens``


@dataclass(frozen=True)
class Infill:
    """The action as infills: its holes, and how their texts become the reply that the
    plan's ``render`` takes (the same checks then apply as to a chat reply)."""

    holes: tuple[Hole, ...]
    reply: Callable[[list[str]], str]


@dataclass(frozen=True)
class Plan:
    """Where the generated text goes, and how raw model text becomes that text.

    ``start``/``end`` is the range the action claims (character offsets into the target
    file's text, ``start == end`` for an insertion). Nothing outside it changes except
    whole import lines at ``import_offset``. By default the target file is the document
    the action was asked on; a test file (``uri`` set) may exist (``base_text``) or be
    created (``create``).
    """

    start: int
    end: int
    render: Callable[[str], Rendered]
    stop_markers: tuple[str, ...] = ()
    stop: StopCheck | None = None
    prefill: str = ""  # the start of the reply, written for the model (kept in its text)
    import_offset: int | None = None
    uri: str | None = None
    base_text: str | None = None
    version: int | None = None
    create: bool = False
    language: LanguageInfo | None = None  # of the target file, when it is another file
    output: str = "edit"  # edit | text (explain: the text is shown, nothing is edited)
    fields: Mapping[str, str] = field(default_factory=dict)  # extra prompt fields
    # the same action as fill-in-the-middle, for models without a chat template (None:
    # those get the instruction as a plain prefix prompt)
    infill: Infill | None = None


def char_offset(data: bytes, byte_offset: int) -> int:
    return len(data[:byte_offset].decode("utf-8", "surrogatepass"))


def line_start(text: str, offset: int) -> int:
    """Offset of the first character of the line holding ``offset``."""
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset of the line ending (``\\r\\n`` or ``\\n``) of the line holding ``offset``."""
    end = text.find("\n", offset)
    if end < 0:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def indentation(text: str, offset: int) -> str:
    """Leading whitespace of the line holding ``offset``."""
    start = line_start(text, offset)
    line = text[start : line_end(text, start)]
    return line[: len(line) - len(line.lstrip(" \t"))]


def eol_of(text: str) -> str:
    """The document's line ending: CRLF when most of its line breaks are CRLF."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def to_eol(text: str, eol: str) -> str:
    """``text`` (any line endings) with every line break written as ``eol``."""
    plain = text.replace("\r\n", "\n").replace("\r", "\n")
    return plain if eol == "\n" else plain.replace("\n", eol)


def plain_lines(text: str) -> str:
    """Text as the model should see it: ``\\n`` line breaks only."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
