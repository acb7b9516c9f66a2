"""The repeat guard: a generation that starts repeating itself is stopped and the stop
counted (report ``stop_reason: repeat``, the status's ``repeats``). A real LSP client
drives `edgewise serve` whose backend is a server on 127.0.0.1 that answers every request
with one sentence again and again up to ``max_tokens`` (as Explain did on SmolLM2)."""

from __future__ import annotations

from typing import Any

import jsonschema
from lsprotocol import types
from pytest_lsp import LanguageClient

from edgewise.model.stops import RepeatGuard, guarded
from edgewise.schemas import load_schema
from tests.lsp.conftest import open_doc, wait_until
from tests.lsp.sample_files import PYTHON
from tests.remote.misbehaving import LOOP, MisbehavingServer
from tests.remote.test_remote_lsp import PY_URI, inline, launch, lsp, remote_options, report_of

__all__ = ["lsp"]  # the fixture


async def test_a_looping_explanation_and_completion_are_stopped_and_counted(lsp: LanguageClient):
    with MisbehavingServer("loops") as server:
        await launch(lsp, remote_options(server.url, maxTokens=200, actionMaxTokens=256), {})
        open_doc(lsp, PY_URI, "python", PYTHON)
        result = await lsp.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="edgewise.explain",
                arguments=[
                    {
                        "uri": PY_URI,
                        "range": {
                            "start": {"line": 3, "character": 4},
                            "end": {"line": 3, "character": 4},
                        },
                    }
                ],
            )
        )
        report: dict[str, Any] = result["report"]
        jsonschema.validate(report, load_schema("report"))
        assert report["stop_reason"] == "repeat"
        # the sentence once, not until 256 tokens: the model was stopped early
        assert result["text"].count("returns the area") == 1, result["text"]
        assert report["tokens"]["completion"] < 256 // 2

        completion = await inline(lsp, 6, 8)
        assert completion is not None and completion.items
        text = str(completion.items[0].insert_text)
        assert text.count("returns the area") == 1, text
        accepted = await report_of(lsp, completion.items[0].command)
        assert accepted["stop_reason"] == "repeat"
        # the status counts them (the editors may show it)
        await wait_until(
            lambda: [s for s in lsp.status_updates if getattr(s, "repeats", None) == 2]  # type: ignore[attr-defined]
        )


def test_the_guard_leaves_ordinary_text_and_data_alone() -> None:
    guard = RepeatGuard()
    sentence = LOOP * 3
    assert sentence[: guard(sentence)] == LOOP.strip()
    assert guard("x = [" + "0, " * 40) is None, "a list of zeros is data, not a loop"
    code = "".join(f"    assert area({n}, {n + 1}) == {n * (n + 1)}\n" for n in range(12))
    assert guard(code) is None, "similar lines that differ are not a loop"
    prose = "It reads the file. It parses the file. It writes the file back. " * 1
    assert guard(prose) is None
    # next to another stop rule: the one that cuts first says why
    stop = guarded(lambda text: text.find("\n") if "\n" in text else None)
    assert stop.reason(LOOP * 3) == "repeat"
    assert stop.reason("one line\n" + LOOP * 3) == "stop"
