"""The tokenizer's count of a whole document (what sending the file would cost), counted
on another thread while the model generates, so that it never delays an answer: a count
not ready shortly after the model is done is left out of that report (never guessed).

Counting a big file takes long (a 10,000-line file: ~0.2 s of one core). While the user
types, every keystroke is a new text, so the store remembers how long the document's
last count took: an answer never waits for a count that cannot be ready within the grace
period, and a new count of the same document starts only after a pause of at least
twice the last count's duration (counting never takes more than a third of a core from
the model while typing). Small files are counted as before: at once, every time.

A door where nobody types (the batch run) sets ``patient``: every answer waits for its
count, and counts are not paced, so every report of a file under ``MAX_CHARS`` has it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

from edgewise.context.documents import ParsedDocument
from edgewise.model.backend import Backend

MAX_CHARS = 512 * 1024  # larger files are not counted (minutes of tokenizing for nothing)
GRACE_SECONDS = 0.05  # how long an answer may wait for its count after the model is done
CACHED_DOCUMENTS = 64
REST_FACTOR = 2.0  # a slow count is followed by at least this many times its duration idle


@dataclass
class Counting:
    text: str
    future: asyncio.Future[int | None]
    ready_at: float = 0.0  # monotonic time it is expected to be done (0: at once or unknown)


@dataclass
class Pace:
    """How long the last count of a document took, and when it ended."""

    seconds_per_char: float
    seconds: float
    ended: float


class WholeFileCounter:
    """Per-document token counts, cached by exact text; one count per document at a time."""

    def __init__(self, patient: bool = False) -> None:
        self.patient = patient  # wait for every count (no one is typing: the batch run)
        self._counts: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._running: dict[str, Counting] = {}
        self._pace: dict[str, Pace] = {}

    def _count(self, backend: Backend, uri: str, text: str) -> int | None:
        began = time.monotonic()
        try:
            count = backend.count_tokens(text)
        except Exception:  # a tokenizer that cannot count leaves the field out
            return None
        ended = time.monotonic()
        self._pace[uri] = Pace((ended - began) / max(len(text), 1), ended - began, ended)
        self._counts[uri] = (text, count)
        self._counts.move_to_end(uri)
        while len(self._counts) > CACHED_DOCUMENTS:
            self._counts.popitem(last=False)
        while len(self._pace) > CACHED_DOCUMENTS:
            self._pace.pop(next(iter(self._pace)))
        return count

    def start(self, backend: Backend, doc: ParsedDocument) -> Counting | None:
        """Start counting ``doc`` as it is now (or reuse the cached or running count);
        None when it is not counted for this text."""
        text = doc.text
        if len(text) > MAX_CHARS:
            return None
        loop = asyncio.get_running_loop()
        cached = self._counts.get(doc.uri)
        if cached is not None and cached[0] == text:
            done: asyncio.Future[int | None] = loop.create_future()
            done.set_result(cached[1])
            return Counting(text, done)
        running = self._running.get(doc.uri)
        if running is not None and not running.future.done():
            return running if running.text == text else None
        now = time.monotonic()
        pace = self._pace.get(doc.uri)
        ready_at = 0.0
        if pace is not None and pace.seconds > GRACE_SECONDS and not self.patient:
            if now - pace.ended < REST_FACTOR * pace.seconds:
                return None  # typing in a big file: let the model have the cores
            ready_at = now + pace.seconds_per_char * len(text)
        future = asyncio.ensure_future(asyncio.to_thread(self._count, backend, doc.uri, text))
        counting = Counting(text, future, ready_at)
        self._running[doc.uri] = counting
        future.add_done_callback(lambda _: self._running.pop(doc.uri, None))
        return counting

    def forget(self, uri: str) -> None:
        """A closed document: its cached count (and the text it is for) is dropped."""
        self._counts.pop(uri, None)
        self._pace.pop(uri, None)

    def ready(self, counting: Counting | None) -> int | None:
        """The count if it is done now (no wait at all)."""
        if counting is None or not counting.future.done() or counting.future.cancelled():
            return None
        if counting.future.exception() is not None:
            return None
        return counting.future.result()

    async def result(self, counting: Counting | None, patient: bool = False) -> int | None:
        """The count, if it is ready within a moment (no wait for one that cannot be);
        ``patient``: whenever it is ready (nobody waits: the answer is out already)."""
        if counting is None:
            return None
        if counting.future.done() or self.patient or patient:
            return await counting.future
        if counting.ready_at > time.monotonic() + GRACE_SECONDS:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(counting.future), GRACE_SECONDS)
        except TimeoutError:
            return None
