"""The report of a request the model process lost: it crashed, was killed or hung while
serving the request, which answers with nothing. The report says so (``lost``: how the
process ended) with what was measured until then, and goes into the session and the
ledger like every report; the error then goes on to the door, which answers empty."""

from __future__ import annotations

import time
from typing import Any

from edgewise.context.positions import Pos
from edgewise.model.backend import Backend
from edgewise.model.worker_client import WorkerGone
from edgewise.pipeline.services import Services
from edgewise.report.builder import Usage, make_lost_report
from edgewise.report.record import Lost


def record_lost(
    services: Services,
    backend: Backend,
    exc: WorkerGone,
    began: float,
    *,
    kind: str,
    action: str,
    uri: str,
    start: Pos,
    prompt_format: str,
    usage: Usage | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record the lost request's report; ``began``: ``time.monotonic()`` when the lost
    model call started; ``usage``: the request's earlier calls that finished."""
    exit = exc.exit
    report = make_lost_report(
        kind=kind,
        action=action,
        uri=uri,
        start=start,
        usage=usage or Usage(),
        lost_ms=(time.monotonic() - began) * 1000.0,
        lost=Lost(exit.describe(), exit.signal_name(), exit.hung),
        info=backend.info(),
        settings=services.settings,
        prompt_format=prompt_format,
        context=context,
    ).to_dict()
    services.session.add(report)
    return report
