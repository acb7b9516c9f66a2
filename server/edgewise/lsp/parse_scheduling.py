"""When an open document is parsed, outside the keystrokes' answers.

A completion re-parses its document only within :data:`PARSE_BUDGET_S` while the user
types; what does not fit is done in the next pause (:class:`ParseScheduler`), and the
first completion's tables are built just after the document opens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Container
from typing import Any

from pygls.workspace import Workspace

from edgewise.context.documents import ParsedDocument
from edgewise.context.positions import Pos
from edgewise.engine import Engine

log = logging.getLogger(__name__)

# seconds a completion may spend re-parsing when the debounce did not bring the tree up
# to date (an edit that opens a string re-parses the rest of a big file: 100+ ms at
# 10,000 lines); longer re-parses wait for a pause in typing this long
PARSE_BUDGET_S = 0.004
IDLE_PARSE_S = 1.0
WARM_UP_AFTER_S = 0.02  # after didOpen: messages sent with it are read first
PREFILL_AFTER_S = 0.3  # the cursor rests this long before its prompt is prefilled


class ParseScheduler:
    """Parses, warm-ups and prompt prefills, each timed for a pause in typing. ``typing`` holds the URIs
    of documents with a completion under way (their completion does this work itself);
    ``arrived`` gives a test of whether input is waiting (None: the reader cannot tell)."""

    def __init__(
        self,
        engine: Engine,
        workspace: Callable[[], Workspace],
        typing: Container[str],
        arrived: Callable[[], Callable[[], bool] | None],
    ) -> None:
        self.engine = engine
        self.workspace = workspace
        self.typing = typing
        self.arrived = arrived
        self._idle_parse: dict[str, asyncio.TimerHandle] = {}
        self._prefill: dict[str, asyncio.TimerHandle] = {}

    def is_current(self, uri: str, doc: Any, version: int | None) -> bool:
        """The document is still open, as the same object, at the same version."""
        return self.workspace().text_documents.get(uri) is doc and doc.version == version

    def schedule_idle_parse(self, uri: str, version: int | None) -> None:
        parsed = self.engine.documents.get(uri)
        if parsed is None or not parsed.parse_pending:
            return
        previous = self._idle_parse.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._idle_parse[uri] = loop.call_later(IDLE_PARSE_S, self.parse_when_idle, uri, version)

    def schedule_warm_up(self, uri: str) -> None:
        """After a document opens: build what its first completion needs (the context's
        tables of the whole file, its token count) in the moment the user looks for where
        to type, instead of in the first keystroke's answer (~0.1 s on 10,000 lines)."""
        doc = self.workspace().text_documents.get(uri)
        if doc is None:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(WARM_UP_AFTER_S, self.warm_up, uri, doc, doc.version)

    def warm_up(self, uri: str, doc: Any, version: int | None) -> None:
        if not self.is_current(uri, doc, version) or uri in self.typing:
            return  # typing already started: the completion does this work itself
        try:
            self.engine.prepare(uri, doc.source, Pos(0, 0), doc.language_id)
        except Exception:  # a completion meets the same problem and says it
            log.debug("warming up %s failed", uri, exc_info=True)

    def schedule_prefill(self, uri: str, pos: Pos) -> None:
        """The cursor is at ``pos`` (editors ask for code actions as it moves): after a
        short pause there, the prompt a completion at ``pos`` would send is evaluated in
        the model process, so the first completion evaluates only its tail. Not while
        completions run for the document: they keep the cache current themselves."""
        doc = self.workspace().text_documents.get(uri)
        if doc is None or uri in self.typing:
            return
        previous = self._prefill.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._prefill[uri] = loop.call_later(
            PREFILL_AFTER_S, self.prefill_when_idle, uri, doc.version, pos
        )

    def prefill_when_idle(self, uri: str, version: int | None, pos: Pos) -> None:
        self._prefill.pop(uri, None)
        idle = self.idle_document(uri, version)
        if idle is None:
            return
        try:
            self.engine.prefill_at(uri, idle[0].source, pos, idle[0].language_id)
        except Exception:  # a completion meets the same problem and says it
            log.debug("prefilling %s failed", uri, exc_info=True)

    def parse_when_idle(self, uri: str, version: int | None) -> None:
        """After a pause in typing: the re-parse that did not fit in a keystroke's time
        (100-200 ms on 10,000 lines), then, as a separate step, the tables catching up
        with it. Input arriving stops the parse (it is tried again in the next pause) and
        skips the catch-up: typing resumed, and its keystrokes come first."""
        self._idle_parse.pop(uri, None)
        idle = self.idle_document(uri, version)
        if idle is None or not idle[1].parse_pending or idle[1].text != idle[0].source:
            return
        parsed = idle[1]
        arrived = self.arrived()
        if not parsed.advance_parse(None, arrived):
            self.schedule_idle_parse(uri, version)
        elif parsed.parse_pending and not (arrived and arrived()):
            asyncio.get_running_loop().call_soon(self.catch_up_when_idle, uri, version)

    def catch_up_when_idle(self, uri: str, version: int | None) -> None:
        idle = self.idle_document(uri, version)
        if idle is not None:
            idle[1].catch_up()

    def idle_document(self, uri: str, version: int | None) -> tuple[Any, ParsedDocument] | None:
        """The open document and its parse, if still at ``version`` and not being typed in
        (no completion under way for it)."""
        doc = self.workspace().text_documents.get(uri)
        parsed = self.engine.documents.get(uri)
        if doc is None or parsed is None or doc.version != version or uri in self.typing:
            return None
        return doc, parsed
