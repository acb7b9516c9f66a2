"""Secrets kept out of every text edgewise shows or writes.

The remote backend registers the API key and any credentials written in the backend URL
(``http://user:pass@host``) when it reads them; every message built from a server's reply
passes through :func:`redact` there, and the sinks (messages to the editor, the batch
report, the ``--debug`` log) call it once more as a last line of defence. A secret is
masked in the forms a server may echo it back in: as written, percent-encoded,
JSON-escaped, and (for URL credentials) as the Basic authorization header. A userinfo
part of any URL (``//user:pass@``) is masked whether registered or not.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from urllib.parse import quote, unquote, urlsplit

MASK = "[redacted]"
MIN_SECRET = 4  # shorter strings are not masked: they would garble every message
USERINFO = re.compile(r"(?<=//)[^/\s@\"'<>]+@")


class Redactor:
    """The secrets of this process, and the masking of them in a text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forms: list[str] = []  # longest first, so a longer form masks whole
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | None) -> None:
        """Mask ``secret`` (and its encoded forms) from now on."""
        if not secret or len(secret) < MIN_SECRET:
            return
        forms = {secret, quote(secret, safe=""), json.dumps(secret)[1:-1], unquote(secret)}
        with self._lock:
            known = set(self._forms)
            new = [f for f in forms if len(f) >= MIN_SECRET and f not in known]
            if not new:
                return
            self._forms = sorted(known | set(new), key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(f) for f in self._forms))

    def add_url(self, url: str) -> None:
        """Mask the credentials written in ``url``, and the Basic header made of them."""
        parts = urlsplit(url.strip())
        if parts.password is not None:
            self.add(parts.password)
        if parts.username is not None or parts.password is not None:
            user, password = unquote(parts.username or ""), unquote(parts.password or "")
            pair = f"{user}:{password}"
            self.add(pair)
            self.add(base64.b64encode(pair.encode()).decode())

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return USERINFO.sub(MASK + "@", text)


SECRETS = Redactor()


def redact(text: str) -> str:
    """``text`` with every known secret masked."""
    return SECRETS(text)


def excerpt(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, masked before the cut (a cut through a
    secret would leave a prefix of it that no longer matches)."""
    return redact(text)[:limit]


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: shown as they are
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def guard_logging(logger: logging.Logger | None = None) -> None:
    """Mask secrets in everything the handlers of ``logger`` (default: root) write."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
