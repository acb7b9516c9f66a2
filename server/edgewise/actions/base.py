"""What an action works on and how its model text becomes an edit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A byte range of the document (a function, a class, a selection) and its text."""

    start_byte: int
    end_byte: int
    code: str
    kind: str  # function | class | selection


@dataclass(frozen=True)
class Plan:
    """Where the generated text goes, and how raw model text becomes that text."""

    insert_offset: int  # character offset in the document
    render: Callable[[str], str]  # model text -> the text inserted
    stop_markers: tuple[str, ...] = ()


def char_offset(data: bytes, byte_offset: int) -> int:
    return len(data[:byte_offset].decode("utf-8", "surrogatepass"))
