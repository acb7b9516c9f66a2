"""How deep a JSON message nests, and what can be read of one nested too deep.

Python's JSON decoder, pygls' converters and the handlers all recurse once per level: a
2 KB frame nested 1,000 deep raised ``RecursionError`` while decoding (and 400 levels
deep inside a handler), which took the server down. A decoded message is measured
(a walk over its arrays and objects only, never its strings' bytes: a 20 MB didOpen costs
nothing) and one nested deeper than :data:`MAX_DEPTH` is answered without being handled;
one too deep to decode at all (the decoder raises ``RecursionError``, which is safe) has
its ``id`` and ``method`` read by :func:`top_level_members`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# levels of arrays and objects a message may nest (LSP's own messages use about 10; a
# code action's ``data`` round trip a few more)
MAX_DEPTH = 100
_SCALAR = rb'"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|null|true|false'
_MEMBER = re.compile(rb'\s*("(?:[^"\\]|\\.)*")\s*:\s*(' + _SCALAR + rb")\s*([,}])")
_LAST_MEMBER = re.compile(rb',\s*("(?:[^"\\]|\\.)*")\s*:\s*(' + _SCALAR + rb")\s*\}\s*\Z")
_TAIL = 4096  # bytes at the end searched for the last member (an id is short)


def deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when the decoded JSON ``value`` nests arrays and objects more than ``limit``
    levels deep (iteratively: measuring must not recurse either)."""
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
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
