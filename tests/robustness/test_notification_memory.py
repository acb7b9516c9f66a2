"""A long session of edits leaves nothing behind per notification: pygls 2.1 kept the
future of every didOpen/didChange/didClose (its built-in handlers are generators) in
its table of pending requests for the life of the server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from edgewise.lsp.server import create_server


def message(method: str, params: dict[str, Any], msg_id: int | None = None) -> Any:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if msg_id is not None:
        body["id"] = msg_id
    return json.loads(json.dumps(body))


def test_edits_leave_no_pending_futures_behind() -> None:
    server = create_server()
    protocol = server.protocol
    protocol.set_writer(_Sink())  # type: ignore[arg-type]
    uri = "file:///work/a.py"

    async def session() -> None:
        handle = protocol.handle_message
        parse = protocol.structure_message
        handle(
            parse(
                message("initialize", {"processId": None, "rootUri": None, "capabilities": {}}, 1)
            )
        )
        await asyncio.sleep(0.05)
        handle(
            parse(
                message(
                    "textDocument/didOpen",
                    {
                        "textDocument": {
                            "uri": uri,
                            "languageId": "python",
                            "version": 1,
                            "text": "x = 1\n",
                        }
                    },
                )
            )
        )
        for version in range(2, 302):
            handle(
                parse(
                    message(
                        "textDocument/didChange",
                        {
                            "textDocument": {"uri": uri, "version": version},
                            "contentChanges": [
                                {
                                    "range": {
                                        "start": {"line": 0, "character": 0},
                                        "end": {"line": 0, "character": 0},
                                    },
                                    "text": "y",
                                }
                            ],
                        },
                    )
                )
            )
        await asyncio.sleep(0.05)
        assert server.workspace.get_text_document(uri).source == "y" * 300 + "x = 1\n"
        handle(parse(message("textDocument/didClose", {"textDocument": {"uri": uri}})))
        await asyncio.sleep(0.05)

    asyncio.run(session())
    assert server.workspace.text_documents.get(uri) is None
    assert len(protocol._request_futures) <= 1, (
        f"{len(protocol._request_futures)} futures kept after 302 notifications"
    )


class _Sink:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass
