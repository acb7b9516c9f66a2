"""A stop check run over a growing text in linear time.

A ``StopCheck`` looks at the whole text generated so far; run after every streamed chunk
it costs the square of the text's length. ``StopScan`` runs it after every chunk while
the text is short (``EAGER_CHARS``, beyond any normal reply), then only once the text has
grown by a ``1/GROWTH`` part since the last run; when that run stops, a bisection over
the chunk ends in between finds the first one at which the check stops, and the check's
answer there is returned. The result is the one a run after every chunk gives, because a
stop check, once it stops on a text, stops on every longer text that begins with it
(each check of edgewise looks for something that stays found).
"""

from __future__ import annotations

from edgewise.model.backend import StopCheck

EAGER_CHARS = 4096
GROWTH = 8


class StopScan:
    def __init__(self, check: StopCheck) -> None:
        self.check = check
        self.checked = 0  # length of the text at the last run that did not stop
        self.ends: list[int] = []  # chunk ends not looked at since then
        self.seen = 0  # length of the text at the last chunk
        self.runs = 0  # how many times the check ran

    def feed(self, text: str) -> int | None:
        """After a chunk: the number of characters to keep if generation stops here."""
        if len(text) == self.seen:
            return None  # nothing new to look at
        self.seen = len(text)
        self.ends.append(len(text))
        if len(text) > EAGER_CHARS and len(text) - self.checked < self.checked // GROWTH:
            return None
        return self.flush(text)

    def flush(self, text: str) -> int | None:
        """Run the check over the chunks not looked at yet (at the end of the stream)."""
        if not self.ends:
            return None
        keep = self._run(text)
        if keep is None:
            self.checked = len(text)
            self.ends = []
            return None
        low, high = 0, len(self.ends) - 1  # the last end stops; find the first that does
        while low < high:
            mid = (low + high) // 2
            found = self._run(text[: self.ends[mid]])
            if found is None:
                low = mid + 1
            else:
                high, keep = mid, found
        self.ends = []
        return keep

    def _run(self, text: str) -> int | None:
        self.runs += 1
        return self.check(text)
