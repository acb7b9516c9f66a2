"""How deep a JSON text nests, measured before it is decoded.

Python's JSON decoder, pygls' converters and the handlers all recurse once per level: a
2 KB frame nested 1,000 deep raised ``RecursionError`` while decoding (and 400 levels
deep inside a handler), which took the server down. Frames are measured first, in C
speed passes (strings removed by one regex, brackets kept by ``bytes.translate``, the
running depth by numpy), and a frame nested deeper than :data:`MAX_DEPTH` is answered
without being decoded; :func:`top_level_members` recovers its ``id`` and ``method``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

# levels of arrays and objects a message may nest (LSP's own messages use about 10; a
# code action's ``data`` round trip a few more)
MAX_DEPTH = 100
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPENERS, _CLOSERS = b"[{", b"]}"
_BRACKETS = bytes(1 if byte in _OPENERS else 0xFF if byte in _CLOSERS else 0 for byte in range(256))
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in _OPENERS + _CLOSERS)
_CHUNK = 1 << 20
_TAIL = 4096  # bytes at the end searched for the last member (an id is short)
_SCALAR = rb'"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|null|true|false'
_MEMBER = re.compile(rb'\s*("(?:[^"\\]|\\.)*")\s*:\s*(' + _SCALAR + rb")\s*([,}])")
_LAST_MEMBER = re.compile(rb',\s*("(?:[^"\\]|\\.)*")\s*:\s*(' + _SCALAR + rb")\s*\}\s*\Z")


def deeper_than(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON text ``body`` nests arrays and objects more than ``limit``
    levels deep (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case: too few openers to nest that deep
    brackets = _STRING.sub(b"", body).translate(_BRACKETS, _NOT_BRACKETS)
    steps = np.frombuffer(brackets, dtype=np.int8)  # +1 for an opener, -1 for a closer
    depth = 0
    for at in range(0, len(steps), _CHUNK):  # in chunks: a bounded running total
        running = np.cumsum(steps[at : at + _CHUNK], dtype=np.int64) + depth
        if int(running.max()) > limit:
            return True
        depth = int(running[-1])
    return False


def top_level_members(body: bytes) -> dict[str, Any]:
    """The scalar members of a JSON object that can be read without decoding the rest:
    those before its first nested value, and its last one (where ``id`` often sits after
    ``params``)."""
    members: dict[str, Any] = {}
    start = body.find(b"{")
    if start < 0 or body[:start].strip():
        return members
    at = start + 1
    while (match := _MEMBER.match(body, at)) is not None:
        _add(members, match.group(1), match.group(2))
        if match.group(3) == b"}":
            return members
        at = match.end()
    tail = max(at, len(body) - _TAIL)
    last = _LAST_MEMBER.search(body, tail)
    if last is not None:
        _add(members, last.group(1), last.group(2))
    return members


def _add(members: dict[str, Any], key: bytes, value: bytes) -> None:
    try:
        members.setdefault(json.loads(key), json.loads(value))
    except ValueError:
        pass
