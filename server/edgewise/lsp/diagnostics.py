"""The edgewise diagnostics of each document: one per applied report, plus Hint
diagnostics on the low-confidence spans, kept in place as the user edits."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from edgewise.report.builder import summary

SOURCE = "edgewise"


def _range(data: dict[str, Any]) -> types.Range:
    return types.Range(
        start=types.Position(line=data["start"]["line"], character=data["start"]["character"]),
        end=types.Position(line=data["end"]["line"], character=data["end"]["character"]),
    )


def report_diagnostics(report: dict[str, Any]) -> list[types.Diagnostic]:
    """The summary diagnostic (report in ``data``) and one Hint per unsure span."""
    out = [
        types.Diagnostic(
            range=_range(report["range"]),
            message=summary(report),
            severity=types.DiagnosticSeverity.Information,
            source=SOURCE,
            code=f"{report['kind']}:{report['action']}",
            data=report,
        )
    ]
    for span in report["confidence"]["low_spans"]:
        out.append(
            types.Diagnostic(
                range=_range(span),
                message=f"model unsure here: p={span['min_prob']:.2f}",
                severity=types.DiagnosticSeverity.Hint,
                source=SOURCE,
                code="low-confidence",
                data={"report_id": report["id"], "min_prob": span["min_prob"]},
            )
        )
    return out


def _before(a: types.Position, b: types.Position) -> bool:
    return (a.line, a.character) < (b.line, b.character)


class DiagnosticBook:
    """edgewise diagnostics per document URI."""

    def __init__(self) -> None:
        self._by_uri: dict[str, list[types.Diagnostic]] = {}

    def get(self, uri: str) -> list[types.Diagnostic]:
        return list(self._by_uri.get(uri, []))

    def add(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        self._by_uri.setdefault(uri, []).extend(diagnostics)

    def clear(self, uri: str) -> None:
        self._by_uri.pop(uri, None)

    def edited(self, uri: str, change: types.Range, new_text: str) -> bool:
        """Follow one incremental change: drop unsure-span hints it touches, move the
        diagnostics below it by the lines it added or removed. True if anything changed."""
        diagnostics = self._by_uri.get(uri)
        if not diagnostics:
            return False
        delta = new_text.count("\n") - (change.end.line - change.start.line)
        kept: list[types.Diagnostic] = []
        changed = False
        for diag in diagnostics:
            touches = not (
                _before(diag.range.end, change.start) or _before(change.end, diag.range.start)
            )
            if touches and diag.severity == types.DiagnosticSeverity.Hint:
                changed = True
                continue
            if delta and diag.range.start.line > change.end.line:
                diag.range = types.Range(
                    start=types.Position(diag.range.start.line + delta, diag.range.start.character),
                    end=types.Position(diag.range.end.line + delta, diag.range.end.character),
                )
                _follow_message(diag)
                changed = True
            elif delta and touches and diag.range.end.line >= change.end.line:
                end_line = max(diag.range.start.line, diag.range.end.line + delta)
                diag.range = types.Range(
                    start=diag.range.start,
                    end=types.Position(end_line, diag.range.end.character),
                )
                changed = True
            kept.append(diag)
        self._by_uri[uri] = kept
        return changed


def _follow_message(diag: types.Diagnostic) -> None:
    """A moved summary diagnostic names its weakest line where that line is now."""
    report = diag.data
    if diag.severity != types.DiagnosticSeverity.Information or not isinstance(report, dict):
        return
    shift = diag.range.start.line - report["range"]["start"]["line"]
    diag.message = summary(report, shift)
