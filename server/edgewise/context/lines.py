"""What the LSP calls a line: text up to and including ``\\n``, ``\\r\\n`` or ``\\r``.

``str.splitlines`` also breaks at form feed, vertical tab, U+0085, U+2028 and others,
which shifts every later position in files that contain them (older C and Python
sources often carry form feeds).
"""

from __future__ import annotations

import re

LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lsp_lines(text: str) -> list[str]:
    """Lines with their endings; no empty last line (like ``splitlines(True)``)."""
    return LINE.findall(text)
