"""A closed document is forgotten everywhere: its text, tree and tables (~30 MB for a
10,000-line file) stayed alive in the last prompt choice, the line index and the
whole-file count until another document took their place."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

from edgewise.config import Settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine

SOURCE = "import os\n\n\ndef size(path):\n    return os.path.getsize(path)\n\n\ndef main():\n    "


def test_closing_a_document_frees_it(tiny_model: Path):
    engine = Engine(Settings(model=str(tiny_model), context_length=512), report_log=False)
    uri = "file:///project/sizes.py"

    async def complete_then_close() -> weakref.ref:
        await engine.host.backend()
        doc = engine.documents.open(uri, SOURCE, "python")
        engine.prepare(uri, SOURCE, Pos(8, 4), "python")
        completion = await engine.complete(uri, SOURCE, Pos(8, 4), "python")
        assert completion.report["tokens"]["prompt"] > 0
        engine.close_document(uri)
        return weakref.ref(doc)

    try:
        ref = asyncio.run(complete_then_close())
        gc.collect()
        assert engine.documents.get(uri) is None
        assert ref() is None, [type(r).__name__ for r in gc.get_referrers(ref())]
    finally:
        engine.close()
