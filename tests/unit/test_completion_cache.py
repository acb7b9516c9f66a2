"""The result cache is bounded, and type-through matches only the suggestion typed."""

from __future__ import annotations

from edgewise.completion_cache import CachedText, CacheKey, ResultCache, Shown, ShownSuggestions


def entry(text: str, pieces: tuple[str, ...] = ()) -> CachedText:
    pieces = pieces or (text,)
    probs = tuple(0.5 + i / 100 for i in range(len(pieces)))
    return CachedText(text, pieces, probs, 0.1, "eos", "r1")


def test_result_cache_keeps_at_most_its_capacity_and_drops_the_least_recent():
    cache = ResultCache(capacity=3)
    keys: list[CacheKey] = [(bytes([i]), 64, 0.0, 42, False, "") for i in range(5)]
    for key in keys[:3]:
        cache.put(key, entry("x"))
    assert cache.get(keys[0]) is not None  # used: now the most recent
    for key in keys[3:]:
        cache.put(key, entry("y"))
    assert len(cache) == 3
    assert cache.get(keys[1]) is None and cache.get(keys[2]) is None
    assert cache.get(keys[0]) is not None and cache.get(keys[4]) is not None


def test_dropping_typed_characters_keeps_each_remaining_tokens_probability():
    text = entry("return total", ("return", " tot", "al"))
    rest = text.without_first(8)
    assert rest.text == "otal" and rest.pieces == ("ot", "al")
    assert rest.probs == text.probs[1:]
    assert rest.as_result().completion_tokens == 0 and rest.as_result().total_ms == 0
    kept = text.first(7)
    assert kept.text == "return " and kept.pieces == ("return", " ") and len(kept.probs) == 2


def shown_at(doc: str, offset: int, suggestion: str) -> Shown:
    line = doc[:offset].count("\n")
    character = offset - (doc.rfind("\n", 0, offset) + 1)
    return Shown(doc, offset, line, character, entry(suggestion))


def test_type_through_matches_only_a_typed_prefix_of_the_suggestion_at_the_cursor():
    doc = "x = 1\ny = \nz = 2\n"
    offset = doc.index("y = ") + 4
    shown = ShownSuggestions()
    shown.remember("u", shown_at(doc, offset, "compute(x)\n"))

    def typed(text: str, line: int = 1, character: int | None = None) -> str | None:
        new = doc[:offset] + text + doc[offset:]
        character = 4 + len(text) if character is None else character
        found = shown.match("u", new, line, character, "utf-16")
        return None if found is None else found[1]

    assert typed("") == ""
    assert typed("comp") == "comp"
    assert typed("comX") is None  # not the suggestion
    assert typed("compute(x)\n", line=2, character=0) is None  # the whole line: used up
    assert typed("comp", character=3) is None  # cursor elsewhere
    assert shown.match("other", doc, 1, 4, "utf-16") is None
    edited = doc.replace("z = 2", "z = 3")  # same cursor, another line changed
    assert shown.match("u", edited, 1, 4, "utf-16") is None
    shown.forget("u")
    assert shown.match("u", doc, 1, 4, "utf-16") is None
