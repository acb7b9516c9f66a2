"""Typing speed end to end over stdio, on the tiny model: type-through and the result
cache answer without a model call, a burst of keystrokes runs the model at most twice,
and a request whose position has moved on never gets text back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edgewise.pipeline.services import BENCH_BASELINE_ENV
from edgewise.schemas import load_schema
from tests.lsp.conftest import tiny_options
from tests.lsp.sample_files import PYTHON
from tests.robustness.stdio_client import RawClient

URI = "file:///work/project/files.py"
LINES = PYTHON.split("\n")
LINE = 4  # "    names = []": a complete statement, so a one-line suggestion


class Typist:
    """A client that types into one open document, as an editor does: each keystroke is
    a didChange then an inline completion request at the new cursor."""

    def __init__(self, client: RawClient, text: str) -> None:
        self.client = client
        self.lines = text.split("\n")
        self.version = 1
        client.open(URI, text)

    def type(self, line: int, text: str) -> None:
        character = len(self.lines[line])
        self.change(line, character, character, text)
        self.lines[line] += text

    def backspace(self, line: int) -> None:
        character = len(self.lines[line])
        self.change(line, character - 1, character, "")
        self.lines[line] = self.lines[line][:-1]

    def change(self, line: int, start: int, end: int, text: str) -> None:
        """One didChange: ``text`` replaces columns ``start``-``end`` of ``line``."""
        self.version += 1
        self.client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": URI, "version": self.version},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": line, "character": start},
                            "end": {"line": line, "character": end},
                        },
                        "text": text,
                    }
                ],
            },
        )

    def request(self, line: int) -> int:
        return self.client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": URI},
                "position": {"line": line, "character": len(self.lines[line])},
                "context": {"triggerKind": 2},
            },
        )

    def suggest(self, line: int) -> str | None:
        return self.text_of(self.client.response_to(self.request(line), timeout=120))

    def text_of(self, reply: dict[str, Any]) -> str | None:
        """The suggestion of a reply, once its report's status (sent just after the
        reply) has come too."""
        items = reply["result"]["items"]
        if not items:
            return None
        self.client.report_status(reply)
        text: str = items[0]["insertText"]
        return text

    def statuses(self) -> list[dict[str, Any]]:
        return [n["params"] for n in self.client.notifications if n["method"] == "edgewise/status"]

    def last_report(self) -> dict[str, Any]:
        return self.statuses()[-1]["last"]

    def model_runs(self) -> int:
        """Reports of answers the model computed (cache "miss"), shown or not."""
        return sum(1 for s in self.statuses() if s.get("last", {}).get("cache") == "miss")


@pytest.fixture
def typist(tiny_model: Path, request: pytest.FixtureRequest) -> Iterator[Typist]:
    client = RawClient()
    client.initialize(tiny_options(tiny_model, **getattr(request, "param", {})))
    yield Typist(client, PYTHON)
    client.close()


def test_typing_the_suggestion_is_answered_from_it_without_the_model(typist: Typist):
    first = typist.suggest(LINE)
    assert first and len(first) >= 4 and "\n" not in first[:3], first
    runs = typist.model_runs()
    assert runs == 1 and typist.last_report()["cache"] == "miss"

    typist.type(LINE, first[0])
    typist.type(LINE, first[1])  # two keystrokes, one request at the end (debounced)
    rest = typist.suggest(LINE)
    assert rest == first[2:]
    last = typist.last_report()
    assert last["cache"] == "type-through"
    assert last["tokens"] == {"prompt": 0, "completion": 0, "cached": 0, "source": "measured"}
    assert last["time_ms"]["total"] == 0
    assert "typed through, no model call" in last["summary"]
    assert typist.model_runs() == runs  # no model call

    # the same state asked again: the same text, still no model call
    assert typist.suggest(LINE) == rest
    assert typist.last_report()["cache"] == "hit"
    assert typist.model_runs() == runs

    # a character that is not the suggestion's: the model runs again
    other = "#" if first[2] != "#" else "@"
    typist.type(LINE, other)
    typist.suggest(LINE)
    assert typist.last_report()["cache"] == "miss"
    assert typist.model_runs() == runs + 1

    # back to the state first asked about: the same prompt, the result cache answers
    for _ in range(3):
        typist.backspace(LINE)
    assert typist.suggest(LINE) == first
    assert typist.last_report()["cache"] == "hit"
    assert typist.model_runs() == runs + 1

    # the full report of a cached answer validates and says where its text came from
    reply = typist.client.call(
        "workspace/executeCommand", {"command": "edgewise.costReport", "arguments": []}
    )
    assert reply["result"]["session"]
    report_id = typist.last_report()["id"]
    typist.client.call(
        "workspace/executeCommand",
        {"command": "edgewise.inlineAccepted", "arguments": [report_id]},
    )
    published = [
        n["params"]
        for n in typist.client.notifications
        if n["method"] == "textDocument/publishDiagnostics"
    ]
    data = [d["data"] for d in published[-1]["diagnostics"] if d.get("code") == "completion:inline"]
    assert data and data[0]["cache"] == "hit" and data[0]["cached_from"]
    jsonschema.validate(data[0], load_schema("report"))


@pytest.mark.parametrize("typist", [{"debounceMs": 1000}], indirect=True)
def test_a_burst_of_ten_keystrokes_runs_the_model_at_most_twice(typist: Typist):
    # debounce 1 s: the 30 ms keystrokes stay inside it even on a loaded machine
    ids = []
    for char in "total = 1 "[:10]:
        typist.type(LINE, char)
        ids.append(typist.request(LINE))
        time.sleep(0.03)
    replies = [typist.client.response_to(i, timeout=120) for i in ids]
    assert all("result" in r for r in replies), replies
    assert typist.text_of(replies[-1]), "the last keystroke gets the suggestion"
    assert typist.model_runs() <= 2
    assert all(r["result"]["items"] == [] for r in replies[:-1])
    assert replies[-1]["result"]["items"], "the last keystroke gets the suggestion"
    assert typist.model_runs() == 1


@pytest.mark.parametrize("typist", [{"debounceMs": 1000}], indirect=True)
def test_a_request_whose_document_moved_on_gets_no_text(typist: Typist):
    # an edit without a new request (e.g. the client only syncs): the answer would be
    # for the old position, so there is none, and the model did not run for it
    stale = typist.request(LINE)
    typist.type(LINE, "y")
    assert typist.client.response_to(stale, timeout=120)["result"]["items"] == []
    assert typist.model_runs() == 0
    # a newer request supersedes an older one: the older answers nothing
    older = typist.request(LINE)
    typist.type(LINE, "z")
    newer = typist.request(LINE)
    assert typist.client.response_to(older, timeout=120)["result"]["items"] == []
    assert typist.text_of(typist.client.response_to(newer, timeout=120))
    assert typist.model_runs() == 1


def test_no_text_arrives_after_the_server_has_seen_the_next_keystroke(typist: Typist):
    """No debounce, so the model is often running when the next keystroke comes. A
    reply written after the server read that keystroke is stale; a ping sent right after
    the keystroke is answered in order, so any non-empty reply arriving after the ping's
    answer would be one. None may."""
    pings: dict[int, int] = {}  # completion request id -> ping sent after the next edit
    requests = []
    for char in "for item in names: total += item":
        if requests:
            typist.type(LINE, char)
            pings[requests[-1]] = typist.client.request(
                "workspace/executeCommand", {"command": "edgewise.costReport", "arguments": []}
            )
        requests.append(typist.request(LINE))
        time.sleep(0.01)
    arrival: dict[int, int] = {}
    replies: dict[int, dict[str, Any]] = {}
    order = 0
    wanted = set(requests) | set(pings.values())
    while wanted - set(arrival):
        message = typist.client.next_response(timeout=120)
        arrival[message["id"]] = order
        replies[message["id"]] = message
        order += 1
    for request_id, ping in pings.items():
        if replies[request_id]["result"]["items"]:
            assert arrival[request_id] < arrival[ping], "text answered for a stale position"
    assert replies[requests[-1]]["result"]["items"]


STAND_IN = "syntax from before the latest edits"


def test_an_opened_string_in_a_big_file_does_not_hold_up_completions(tiny_model: Path):
    """Typing `\"\"\"` in the middle of a 10,000-line file makes the rest of it a string: a
    whole-file re-parse. The completions meanwhile are chosen on the previous tree (their
    prompt says so) and after a pause in typing the tree is the text's own again."""
    big = "\n".join([PYTHON] * 540)
    assert big.count("\n") > 10_000
    client = RawClient()
    try:
        client.initialize(tiny_options(tiny_model, debounceMs=0, maxTokens=4))
        typist = Typist(client, big)
        line = len(typist.lines) // 2
        while not typist.lines[line].startswith("    "):
            line += 1
        typist.suggest(line)  # the tree and tables are built once, on open
        for key in '"""':
            typist.type(line, key)
        typist.suggest(line)
        last = client.call("workspace/executeCommand", {"command": "edgewise.lastPrompt"})
        assert any(STAND_IN in note for note in last["result"]["notes"]), last["result"]["notes"]
        time.sleep(2.5)  # a pause: the re-parse runs to its end
        typist.suggest(line + 1)  # elsewhere (not the suggestion showing): a new prompt
        last = client.call("workspace/executeCommand", {"command": "edgewise.lastPrompt"})
        assert not any(STAND_IN in note for note in last["result"]["notes"])
    finally:
        client.close()


def test_only_the_benchmarks_baseline_turns_the_typing_optimizations_off(tiny_model: Path):
    """The baseline bench/latency.py compares against is an environment switch of the
    server, not a setting: with it every request runs the model (the same state asked
    twice, twice); a user's ``typingOptimizations: false`` is an unknown setting."""
    baseline = RawClient(env={BENCH_BASELINE_ENV: "1"})
    try:
        baseline.initialize(tiny_options(tiny_model))
        typist = Typist(baseline, PYTHON)
        first = typist.suggest(LINE)
        assert typist.suggest(LINE) == first
        caches = [s["last"]["cache"] for s in typist.statuses() if "last" in s]
        assert caches == ["off", "off"]
    finally:
        baseline.close()

    client = RawClient()
    try:
        client.initialize(tiny_options(tiny_model, typingOptimizations=False))
        typist = Typist(client, PYTHON)
        first = typist.suggest(LINE)
        assert typist.suggest(LINE) == first
        assert typist.last_report()["cache"] == "hit"
        said = [
            n["params"]["message"]
            for n in client.notifications
            if n["method"] == "window/showMessage"
        ]
        assert "edgewise: unknown setting 'typingOptimizations' ignored" in said
    finally:
        client.close()
