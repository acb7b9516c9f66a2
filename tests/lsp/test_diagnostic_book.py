"""The report diagnostics of a document as edits come in (lsp/diagnostics.py): the mark
is the first line of the generated text, moves with the text, and goes when the text is
deleted or replaced as a whole. The end-to-end versions are in test_report_marks.py."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from edgewise.lsp.diagnostics import DiagnosticBook

URI = "file:///work/project/a.py"


def report(start: tuple[int, int], end: tuple[int, int], spans: list[Any] = ()) -> dict[str, Any]:
    return {
        "id": "r1",
        "kind": "action",
        "action": "docstring",
        "range": {
            "start": {"line": start[0], "character": start[1]},
            "end": {"line": end[0], "character": end[1]},
        },
        "tokens": {"prompt": 10, "completion": 5, "cached": 0},
        "time_ms": {"total": 100.0},
        "cost": {"energy_wh": 0.001, "local": 0.0, "cloud_equivalent": 0.0001, "currency": "USD"},
        "confidence": {"score": 0.4, "low_spans": list(spans), "calibrated": False},
        "verified": {"syntax_ok": True, "reason": ""},
    }


def rng(a: tuple[int, int], b: tuple[int, int]) -> types.Range:
    return types.Range(start=types.Position(*a), end=types.Position(*b))


class Lines:
    """A document's line lengths, as the server measures them."""

    def __init__(self, lengths: dict[int, int]) -> None:
        self.lengths = lengths

    def __call__(self, uri: str, line: int) -> int | None:
        return self.lengths.get(line)


def book_with(r: dict[str, Any], lengths: dict[int, int]) -> DiagnosticBook:
    book = DiagnosticBook(Lines(lengths))
    book.add_report(URI, r)
    return book


def mark(book: DiagnosticBook) -> types.Diagnostic:
    (found,) = [d for d in book.get(URI) if d.severity == types.DiagnosticSeverity.Information]
    return found


def test_a_text_of_several_lines_is_marked_on_its_first_line():
    book = book_with(report((4, 0), (7, 0)), {4: 30, 5: 20, 6: 7})
    assert mark(book).range == rng((4, 0), (4, 30))
    assert mark(book).message.startswith("model's confidence: 40 % (not calibrated) · 10 prompt")


def test_a_text_that_starts_with_a_line_break_is_marked_on_its_first_line_of_text():
    book = book_with(report((2, 12), (4, 9)), {2: 12, 3: 16, 4: 9})
    assert mark(book).range == rng((3, 0), (3, 16))


def test_a_one_line_text_is_marked_where_it_is():
    book = book_with(report((6, 8), (6, 20)), {6: 20})
    assert mark(book).range == rng((6, 8), (6, 20))


def test_text_typed_before_it_on_its_line_moves_it_right():
    book = book_with(report((6, 8), (6, 20)), {6: 22})
    assert book.edited(URI, rng((6, 0), (6, 0)), "  ")
    assert mark(book).range == rng((6, 10), (6, 22))


def test_lines_added_or_removed_above_move_it():
    book = book_with(report((6, 8), (6, 20)), {8: 20, 5: 20})
    book.edited(URI, rng((0, 0), (0, 0)), "a\r\nb\n")
    assert mark(book).range.start == types.Position(8, 8)
    book.edited(URI, rng((1, 0), (4, 0)), "")
    assert mark(book).range.start == types.Position(5, 8)


def test_editing_inside_it_keeps_it_and_typing_after_it_does_not_grow_it():
    book = book_with(report((6, 8), (6, 20)), {6: 30})
    book.edited(URI, rng((6, 12), (6, 14)), "xyz")
    assert mark(book).range == rng((6, 8), (6, 21))
    book.edited(URI, rng((6, 21), (6, 21)), "tail")
    assert mark(book).range == rng((6, 8), (6, 21))


def test_deleting_its_line_removes_it():
    book = book_with(report((6, 8), (6, 20)), {})
    assert book.edited(URI, rng((6, 0), (7, 0)), "")
    assert book.get(URI) == []


def test_deleting_all_of_its_characters_removes_it():
    book = book_with(report((6, 8), (6, 20)), {6: 20})
    book.edited(URI, rng((6, 8), (6, 14)), "")
    assert book.get(URI)
    book.edited(URI, rng((6, 8), (6, 14)), "")
    assert book.get(URI) == []


def test_replacing_it_as_a_whole_removes_it_and_its_hints():
    spans = [
        {
            "start": {"line": 5, "character": 4},
            "end": {"line": 5, "character": 9},
            "min_prob": 0.1,
            "text": "maybe",
        }
    ]
    book = book_with(report((4, 0), (7, 0), spans), {4: 30})
    assert len(book.get(URI)) == 2
    book.edited(URI, rng((4, 0), (7, 0)), "    # by hand\n")
    assert book.get(URI) == []


def test_a_partial_delete_at_its_start_keeps_the_rest_marked():
    book = book_with(report((4, 0), (7, 0)), {4: 25})
    book.edited(URI, rng((4, 0), (5, 0)), "")
    assert mark(book).range.start == types.Position(4, 0)


def test_columns_move_in_utf16_code_units():
    book = DiagnosticBook(Lines({6: 30}), lambda: "utf-16")
    book.add_report(URI, report((6, 8), (6, 20)))
    book.edited(URI, rng((6, 0), (6, 0)), "😀")  # two UTF-16 code units
    assert mark(book).range.start == types.Position(6, 10)
