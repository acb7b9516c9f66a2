"""Code-action edits handed to the editor, and their reports: a report is shown once its
edit has arrived in the document, whether or not the editor runs the action's command.

An editor applies a resolved code action's edit and then runs its command
(``edgewise.reportApplied``). VS Code runs that command only while the list the action
came from is still alive: when the list is replaced while the model runs (the cursor
moved, the diagnostics at the cursor changed), the edit is applied and the command is
dropped. So the server does not depend on it: it knows the text each edit makes, and
when a change brings the document to exactly that text, the edit is in and its report
is shown. The command, when it comes, finds the report shown already."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

KEEP_S = 600.0  # an edit not applied by then was not taken
KEEP_SETTLED = 256  # report ids remembered as shown (a late command shows nothing twice)


@dataclass(frozen=True)
class _Expected:
    report_id: str
    text: str  # the whole document once the edit is in
    at: float


class HandedOut:
    """Edits handed out per document, and the reports already shown."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expected: dict[str, list[_Expected]] = {}
        self._settled: OrderedDict[str, None] = OrderedDict()

    def expect(self, uri: str, text: str, report_id: str) -> None:
        """An edit for ``uri`` that makes its text ``text`` was handed out."""
        now = self._clock()
        kept = [e for e in self._expected.get(uri, []) if now - e.at < KEEP_S]
        kept.append(_Expected(report_id, text, now))
        self._expected[uri] = kept

    def arrived(self, uri: str, text: str) -> list[str]:
        """The reports whose edit made ``uri``'s text ``text`` (each once)."""
        waiting = self._expected.get(uri)
        if not waiting:
            return []
        now = self._clock()
        found = [e.report_id for e in waiting if e.text == text]
        left = [e for e in waiting if e.report_id not in found and now - e.at < KEEP_S]
        if left:
            self._expected[uri] = left
        else:
            self._expected.pop(uri, None)
        return found

    def settle(self, report_id: str) -> bool:
        """True the first time a report is shown; False when it was shown already."""
        for waiting in self._expected.values():
            waiting[:] = [e for e in waiting if e.report_id != report_id]
        if report_id in self._settled:
            return False
        self._settled[report_id] = None
        while len(self._settled) > KEEP_SETTLED:
            self._settled.popitem(last=False)
        return True

    def closed(self, uri: str) -> None:
        self._expected.pop(uri, None)
