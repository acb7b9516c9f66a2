"""The model runs in its own process: when that process crashes, is killed or hangs, the
language server keeps its connection, answers the request it lost with no items, tells
the user once what happened, says so in `edgewise/status`, and starts the model again."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edgewise.report.ledger import LOG_NAME, ReportLog, totals
from edgewise.schemas import load_schema
from tests.lsp.conftest import tiny_options
from tests.lsp.sample_files import PYTHON
from tests.robustness.stdio_client import RawClient

URI = "file:///work/project/files.py"


def options(model: Path, **extra: Any) -> dict[str, Any]:
    return tiny_options(model, **{"maxTokens": 8, "contextLength": 1024, **extra})


def inline(client: RawClient, timeout: float = 60.0) -> dict[str, Any]:
    return client.call(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": URI},
            "position": {"line": 6, "character": 8},
            "context": {"triggerKind": 1},
        },
        timeout=timeout,
    )


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def worker_of(client: RawClient, timeout: float = 60.0) -> int:
    """The model process, once the model is loaded: the server's child whose pid the
    status gives (an action also starts a chat-template renderer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = last_status(client).get("model", {})
        kids = children(client.proc.pid)
        if model.get("state") == "ready" and model.get("pid") in kids:
            return int(model["pid"])
        drain(client, 0.1)
    raise AssertionError("the model process never became ready")


def drain(client: RawClient, seconds: float) -> None:
    """Reads notifications for a while (they are kept in ``client.notifications``)."""
    try:
        client.next_response(seconds)
    except (AssertionError, Exception):
        pass


def last_status(client: RawClient) -> dict[str, Any]:
    statuses = [n["params"] for n in client.notifications if n["method"] == "edgewise/status"]
    return statuses[-1] if statuses else {}


def messages(client: RawClient) -> list[str]:
    return [
        n["params"]["message"] for n in client.notifications if n["method"] == "window/showMessage"
    ]


def states(client: RawClient) -> list[str]:
    return [
        n["params"].get("model", {}).get("state", "")
        for n in client.notifications
        if n["method"] == "edgewise/status"
    ]


@pytest.fixture
def make_client(tiny_model: Path) -> Iterator[Any]:
    made: list[RawClient] = []

    def make(env: dict[str, str] | None = None, **extra: Any) -> RawClient:
        client = RawClient(env=env)
        client.initialize(options(tiny_model, **extra))
        client.open(URI, PYTHON)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def lose_a_request(client: RawClient, sig: int) -> dict[str, Any]:
    """Stops the model process, asks for a completion (it waits on that process), then
    delivers ``sig`` to it: the answer to the completion, the process's pid."""
    worker = worker_of(client)
    os.kill(worker, signal.SIGSTOP)
    msg_id = client.request(  # another position: not an answer the result cache has
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": URI},
            "position": {"line": 6, "character": 4},
            "context": {"triggerKind": 1},
        },
    )
    time.sleep(0.5)  # the request has reached the model process
    os.kill(worker, sig)
    if sig != signal.SIGKILL:
        os.kill(worker, signal.SIGCONT)
    reply = client.response_to(msg_id, timeout=60)
    return {"reply": reply, "pid": worker}


def lost_reports(state: Path, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The ledger's reports of lost requests, once written (the ledger writes when
    requests pause), read as every reader of the ledger reads it."""
    deadline = time.monotonic() + timeout
    while True:
        read = ReportLog(state / LOG_NAME).read()
        found = [r for r in read.reports if r.get("lost")]
        if found or time.monotonic() > deadline:
            assert read.skipped == 0, "every line of the ledger reads"
            return found
        time.sleep(0.2)


def assert_lost_report(report: dict[str, Any], signal_name: str, said: str) -> None:
    """What happened is said; what was not measured is null, never a guess."""
    jsonschema.validate(report, load_schema("report"))
    assert report["kind"] == "completion" and report["stop_reason"] == "lost"
    assert report["lost"]["signal"] == signal_name and said in report["lost"]["reason"]
    assert report["tokens"]["prompt"] is None and report["tokens"]["completion"] is None
    assert report["tokens"]["cached"] is None and report["cost"]["cloud_equivalent"] is None
    assert report["time_ms"]["prompt"] is None and report["time_ms"]["generation"] is None
    assert report["time_ms"]["total"] >= 400, "the time until the loss is measured"
    assert report["cost"]["energy_wh"] > 0
    assert report["confidence"]["score"] is None and report["verified"]["syntax_ok"] is None


@pytest.mark.parametrize(
    ("sig", "said"),
    [(signal.SIGSEGV, "SIGSEGV"), (signal.SIGKILL, "out-of-memory")],
)
def test_a_dead_model_process_loses_one_request_not_the_server(make_client, tmp_path, sig, said):
    client = make_client(env={"EDGEWISE_STATE_DIR": str(tmp_path)})
    assert inline(client)["result"]["items"], "the model answers before the crash"
    lost = lose_a_request(client, sig)
    assert not (lost["reply"].get("result") or {}).get("items"), lost["reply"]
    # told once, in plain words, with the signal and what edgewise does about it
    drain(client, 0.5)
    told = [m for m in messages(client) if "model process ended" in m]
    assert len(told) == 1, messages(client)
    assert said in told[0] and "starting it again" in told[0], told[0]
    if sig == signal.SIGSEGV:  # a native fault: the next start uses the safe setting
        assert "extra CPU buffer types off" in told[0]
    # the status never said "ready" while it was down, and says so again once restarted
    new_worker = worker_of(client)
    assert new_worker != lost["pid"]
    seen = states(client)
    down = seen.index("restarting")
    assert "ready" in seen[down:], seen
    assert seen[down : seen.index("ready", down)] == ["restarting"] * (
        seen.index("ready", down) - down
    ), seen
    if sig == signal.SIGSEGV:
        assert last_status(client)["model"]["extraBuffers"] is False
    assert inline(client)["result"]["items"], "the restarted model answers"
    assert client.proc.poll() is None
    # the lost request has its report in the ledger, marked lost with the reason
    (report,) = lost_reports(tmp_path)
    assert_lost_report(report, signal.Signals(sig).name, said)
    assert report["range"]["start"] == {"line": 6, "character": 4}
    read = ReportLog(tmp_path / LOG_NAME).read()
    day = totals(read.reports)
    assert day["lost"] == 1 and day["requests"] == len(read.reports) >= 2
    assert day["tokens_prompt"] == sum(r["tokens"]["prompt"] or 0 for r in read.reports) > 0


def test_an_action_lost_to_a_crash_has_its_report_in_the_ledger(make_client, tmp_path):
    """A code action whose model call the process was serving when it died: the action
    is not applied, and the ledger holds its report, marked lost."""
    client = make_client(env={"EDGEWISE_STATE_DIR": str(tmp_path)})
    here = {"start": {"line": 4, "character": 6}, "end": {"line": 4, "character": 6}}
    listed = client.call(
        "textDocument/codeAction",
        {"textDocument": {"uri": URI}, "range": here, "context": {"diagnostics": []}},
    )["result"]
    action = listed[0]  # a Command: this client has no CodeAction literals
    assert client.call("workspace/executeCommand", action, timeout=120)["result"] is True
    worker = worker_of(client)
    os.kill(worker, signal.SIGSTOP)
    msg_id = client.request("workspace/executeCommand", action)
    time.sleep(2.0)  # planned, prompt rendered, sent: the model call waits on the process
    os.kill(worker, signal.SIGKILL)
    assert client.response_to(msg_id, timeout=60)["result"] is False, "nothing applied"
    (report,) = lost_reports(tmp_path)
    jsonschema.validate(report, load_schema("report"))
    assert report["kind"] == "action" and report["action"] == action["arguments"][0]["action"]
    assert report["lost"]["signal"] == "SIGKILL" and report["stop_reason"] == "lost"
    assert report["tokens"]["prompt"] is None and report["cost"]["cloud_equivalent"] is None
    assert report["time_ms"]["total"] >= 1500 and report["verified"]["attempts"] == 1
    assert client.proc.poll() is None
    drain(client, 0.5)
    told = [m for m in messages(client) if "model process ended" in m]
    assert len(told) == 1 and "starting it again" in told[0], messages(client)


def test_a_hung_model_process_is_stopped_and_replaced(make_client, tmp_path):
    client = make_client(env={"EDGEWISE_WORKER_STALL_S": "2", "EDGEWISE_STATE_DIR": str(tmp_path)})
    worker = worker_of(client)
    os.kill(worker, signal.SIGSTOP)  # hangs: no progress, no answer
    started = time.monotonic()
    reply = inline(client, timeout=30)
    assert not (reply.get("result") or {}).get("items"), reply
    assert time.monotonic() - started < 15
    drain(client, 0.5)
    assert any("no progress" in m for m in messages(client)), messages(client)
    assert worker_of(client) != worker
    assert inline(client)["result"]["items"]
    (report,) = lost_reports(tmp_path)
    assert_lost_report(report, "SIGKILL", "no progress")
    assert report["lost"]["hung"] is True


def test_repeated_crashes_stop_the_retries_until_a_setting_changes(make_client, tiny_model):
    client = make_client()
    for _ in range(3):
        os.kill(worker_of(client), signal.SIGKILL)
        drain(client, 1.0)
        if last_status(client).get("model", {}).get("state") == "crashed":
            break
    deadline = time.monotonic() + 30
    while last_status(client).get("model", {}).get("state") != "crashed":
        assert time.monotonic() < deadline, states(client)
        drain(client, 0.2)
    assert not children(client.proc.pid), "no process is started again"
    stopped = [m for m in messages(client) if "stopped restarting" in m]
    assert stopped and "`model`" in stopped[0], messages(client)
    assert not (inline(client).get("result") or {}).get("items")
    assert last_status(client)["state"] == "crashed"  # never "ready" or "idle" meanwhile
    # a changed setting tries again
    client.notify("workspace/didChangeConfiguration", {"settings": options(tiny_model, threads=2)})
    reply = inline(client)
    assert reply["result"]["items"], (reply, messages(client))
    assert last_status(client)["model"]["state"] == "ready"


def test_the_model_process_ends_with_the_server(make_client):
    client = make_client()
    worker = worker_of(client)
    os.kill(client.proc.pid, signal.SIGKILL)  # no chance to clean up
    client.proc.wait(10)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists():
        stat = Path(f"/proc/{worker}/stat").read_text().split()
        if stat[2] == "Z":  # a zombie waiting for a reaper is gone already
            break
        assert time.monotonic() < deadline, "the model process outlived the server"
        time.sleep(0.05)
