"""The tokenizer's count of a whole document (what sending the file would cost), counted
on another thread while the model generates, so that it never delays an answer: a count
not ready shortly after the model is done is left out of that report (never guessed).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from edgewise.context.documents import ParsedDocument
from edgewise.model.backend import Backend

MAX_CHARS = 512 * 1024  # larger files are not counted (minutes of tokenizing for nothing)
GRACE_SECONDS = 0.05  # how long an answer may wait for its count after the model is done
CACHED_DOCUMENTS = 64


@dataclass
class Counting:
    text: str
    future: asyncio.Future[int | None]


class WholeFileCounter:
    """Per-document token counts, cached by exact text; one count per document at a time."""

    def __init__(self) -> None:
        self._counts: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._running: dict[str, Counting] = {}

    def _count(self, backend: Backend, uri: str, text: str) -> int | None:
        try:
            count = len(backend.tokenize(text))
        except Exception:  # a tokenizer that cannot count leaves the field out
            return None
        self._counts[uri] = (text, count)
        self._counts.move_to_end(uri)
        while len(self._counts) > CACHED_DOCUMENTS:
            self._counts.popitem(last=False)
        return count

    def start(self, backend: Backend, doc: ParsedDocument) -> Counting | None:
        """Start counting ``doc`` as it is now (or reuse the cached or running count)."""
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
        future = asyncio.ensure_future(asyncio.to_thread(self._count, backend, doc.uri, text))
        counting = Counting(text, future)
        self._running[doc.uri] = counting
        future.add_done_callback(lambda _: self._running.pop(doc.uri, None))
        return counting

    async def result(self, counting: Counting | None) -> int | None:
        """The count, if it is ready within a moment."""
        if counting is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(counting.future), GRACE_SECONDS)
        except TimeoutError:
            return None
