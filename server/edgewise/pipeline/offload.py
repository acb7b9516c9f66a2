"""Prompt work off the event loop when the tokenizer is a remote server's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from edgewise.model.backend import Backend

T = TypeVar("T")


async def off_loop_if_remote(backend: Backend, fn: Callable[..., T], *args: Any) -> T:
    """Runs ``fn`` in a thread when the backend tokenizes over HTTP (remote servers), so
    the LSP keeps answering while prompts are built; inline otherwise."""
    if getattr(backend, "remote_tokenizer", False):
        return await asyncio.to_thread(fn, *args)
    return fn(*args)
