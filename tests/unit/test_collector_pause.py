"""The garbage collector waits while a completion's answer is due, and runs again after."""

from __future__ import annotations

import asyncio
import gc

from edgewise.lsp.collector import CollectorPause


def test_holds_nest_and_the_last_release_turns_the_collector_back_on() -> None:
    pause = CollectorPause()
    assert gc.isenabled()
    pause.hold()
    pause.hold()
    assert not gc.isenabled()
    pause.release()
    assert not gc.isenabled()  # another answer is still due
    pause.release()
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off() -> None:
    pause = CollectorPause()
    gc.disable()
    try:
        pause.hold()
        pause.release()
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_held_until_the_request_task_ends() -> None:
    pause = CollectorPause()
    during: list[bool] = []

    async def request() -> None:
        pause.hold_until_answered()
        await asyncio.sleep(0)
        during.append(gc.isenabled())

    await asyncio.ensure_future(request())
    await asyncio.sleep(0)  # the done callbacks run
    assert during == [False]
    assert gc.isenabled()
