"""The edgewise diagnostics of each document: one per applied report, marking where its
generated text starts (one line at most), plus Hint diagnostics on the low-confidence
spans. They follow the user's edits; a report's diagnostics go when its generated text
is deleted, or replaced as a whole (the ledger keeps the report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from edgewise.context.positions import units
from edgewise.report.builder import summary

SOURCE = "edgewise"

# (uri, line) -> the line's length in the negotiated encoding, None if unknown
LineLength = Callable[[str, int], int | None]


def _position(data: dict[str, Any]) -> types.Position:
    return types.Position(line=data["line"], character=data["character"])


def _range(data: dict[str, Any]) -> types.Range:
    return types.Range(start=_position(data["start"]), end=_position(data["end"]))


def _key(p: types.Position) -> tuple[int, int]:
    return (p.line, p.character)


@dataclass
class _Shown:
    """One applied report in a document: where its generated text is now."""

    report: dict[str, Any]
    span: types.Range
    hints: list[types.Diagnostic] = field(default_factory=list)


def _hints(report: dict[str, Any]) -> list[types.Diagnostic]:
    return [
        types.Diagnostic(
            range=_range(span),
            message=f"model unsure here: p={span['min_prob']:.2f}",
            severity=types.DiagnosticSeverity.Hint,
            source=SOURCE,
            code="low-confidence",
            data={"report_id": report["id"], "min_prob": span["min_prob"]},
        )
        for span in report["confidence"]["low_spans"]
    ]


class _Change:
    """One incremental change, and where positions after it end up."""

    def __init__(self, change: types.Range, new_text: str, encoding: str) -> None:
        self.start, self.end = change.start, change.end
        parts = new_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.added_lines = len(parts) - 1
        self.last_units = units(parts[-1], encoding)
        self.empty = _key(change.start) == _key(change.end)

    def covers(self, span: types.Range) -> bool:
        """The change replaces the whole span (and is not a bare insertion)."""
        return (
            not self.empty
            and _key(self.start) <= _key(span.start)
            and _key(span.end) <= _key(self.end)
        )

    def moved(self, p: types.Position, *, is_start: bool) -> types.Position:
        """``p`` after the change. Text inserted right at a span's start or end is not
        the span's: its start moves past it, its end stays before it."""
        before = _key(p) < _key(self.start) or (
            _key(p) == _key(self.start) and not (is_start and self.empty)
        )
        if before:
            return p
        if _key(p) < _key(self.end):  # inside the replaced text
            p = self.end if not is_start else self.start
            if is_start:
                return p
        if p.line == self.end.line:
            base = self.start.character if self.added_lines == 0 else 0
            return types.Position(
                self.start.line + self.added_lines,
                base + self.last_units + (p.character - self.end.character),
            )
        return types.Position(
            p.line + self.added_lines - (self.end.line - self.start.line), p.character
        )

    def touches(self, rng: types.Range) -> bool:
        return not (_key(rng.end) < _key(self.start) or _key(self.end) < _key(rng.start))


class DiagnosticBook:
    """edgewise diagnostics per document URI. ``line_length`` measures a line of an open
    document (the report's mark ends with its first line); ``encoding`` is the
    negotiated position encoding."""

    def __init__(
        self,
        line_length: LineLength | None = None,
        encoding: Callable[[], str] = lambda: "utf-16",
    ) -> None:
        self._shown: dict[str, list[_Shown]] = {}
        self._line_length = line_length
        self._encoding = encoding

    def get(self, uri: str) -> list[types.Diagnostic]:
        out: list[types.Diagnostic] = []
        for shown in self._shown.get(uri, []):
            out.append(self._mark(uri, shown))
            out.extend(shown.hints)
        return out

    def add_report(self, uri: str, report: dict[str, Any]) -> None:
        """The report's mark and unsure-span hints (a report shown twice, once)."""
        shown = self._shown.setdefault(uri, [])
        shown[:] = [s for s in shown if s.report["id"] != report["id"]]
        shown.append(_Shown(report, _range(report["range"]), _hints(report)))

    def clear(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def _mark(self, uri: str, shown: _Shown) -> types.Diagnostic:
        """Where the generated text starts, up to the end of that line."""
        start, end = shown.span.start, shown.span.end
        if end.line > start.line:
            length = self._line_length(uri, start.line) if self._line_length else None
            if length is not None and length <= start.character:
                # the text starts with a line break: mark its first line of text instead
                start = types.Position(start.line + 1, 0)
                length = self._line_length(uri, start.line) if self._line_length else None
            if end.line > start.line:
                end = types.Position(start.line, max(length or 0, start.character))
        report = shown.report
        shift = shown.span.start.line - report["range"]["start"]["line"]
        return types.Diagnostic(
            range=types.Range(start=start, end=end),
            message=summary(report, shift),
            severity=types.DiagnosticSeverity.Information,
            source=SOURCE,
            code=f"{report['kind']}:{report['action']}",
            data=report,
        )

    def edited(self, uri: str, change: types.Range, new_text: str) -> bool:
        """Follow one incremental change: a report whose generated text it deletes or
        replaces as a whole goes; the unsure-span hints it touches go; the rest move
        with the text. True if anything changed."""
        shown_list = self._shown.get(uri)
        if not shown_list:
            return False
        edit = _Change(change, new_text, self._encoding())
        kept: list[_Shown] = []
        changed = False
        for shown in shown_list:
            if edit.covers(shown.span):
                changed = True
                continue
            span = types.Range(
                start=edit.moved(shown.span.start, is_start=True),
                end=edit.moved(shown.span.end, is_start=False),
            )
            if _key(span.end) <= _key(span.start):  # nothing of it is left
                changed = True
                continue
            hints: list[types.Diagnostic] = []
            for hint in shown.hints:
                if edit.touches(hint.range):
                    changed = True
                    continue
                moved = types.Range(
                    start=edit.moved(hint.range.start, is_start=True),
                    end=edit.moved(hint.range.end, is_start=False),
                )
                changed = changed or moved != hint.range
                hint.range = moved
                hints.append(hint)
            changed = changed or span != shown.span
            shown.span = span
            shown.hints = hints
            kept.append(shown)
        self._shown[uri] = kept
        return changed
