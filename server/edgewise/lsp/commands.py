"""Commands about what happened (``workspace/executeCommand``): a report's diagnostics
once its suggestion or edit is in, the cost so far, the last prompt, and what the server
holds for a document. The status itself is the ``edgewise/status`` notification
(:meth:`EdgewiseServer.status`)."""

from __future__ import annotations

import hashlib
from typing import Any

from edgewise.lsp.language_server import EdgewiseServer
from edgewise.report.comparison import cost_summary, reads_from, to_csv
from edgewise.report.cost_text import render
from edgewise.report.ledger import unit_costs


def show_report(ls: EdgewiseServer, report_id: str) -> bool:
    """``edgewise.inlineAccepted`` and ``edgewise.reportApplied``: the report's
    diagnostics in its document."""
    return ls.show_report(report_id)


def cost_report(ls: EdgewiseServer, *args: Any) -> dict[str, Any]:
    """Totals of this session and of today (every session, from the report log), the
    week and the month with the hosted comparison and break-even (``summary``, the
    figures ``edgewise cost`` prints, and ``text``: its printout, for editors that show
    text), and the budget."""
    engine = ls.engine
    ledger = engine.session.ledger
    read = ledger.read(reads_from(engine.settings))  # once, for every figure below
    engine.budget.refresh(read=read)  # other sessions' reports count too
    session = dict(ledger.session)
    summary = cost_summary(engine.settings, read)
    return {
        "session": session,
        "units": unit_costs(session),
        "today": ledger.today(read=read),
        "summary": summary,
        "csv": to_csv(summary),
        "text": render(summary),
        "budget": engine.budget.status(),
        "log": str(ledger.log.path) if ledger.log is not None else None,
    }


def resume_budget(ls: EdgewiseServer, *args: Any) -> str:
    """``edgewise.resumeBudget``: run the model again although a budget is used up
    (until the periods over their limit end)."""
    message = ls.engine.budget.resume()
    ls.tell(message)
    ls.status("busy" if ls.busy else "idle")
    return message


def document_state(ls: EdgewiseServer, uri: str) -> dict[str, Any] | None:
    """What the server holds for a document (text hash, syntax tree): for checking
    that it never drifts from the client."""
    if not ls.is_open(uri):
        return None
    doc = ls.workspace.get_text_document(uri)
    parsed = ls.engine.documents.get(uri)  # as kept up to date by didChange, unsynced

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    return {
        "version": doc.version,
        "sha256": digest(doc.source),
        "parsed_sha256": digest(parsed.text) if parsed else None,
        "tree": str(parsed.tree.root_node) if parsed and parsed.tree else None,
        "language": parsed.language.name if parsed and parsed.language else None,
    }


def last_prompt(ls: EdgewiseServer, *args: Any) -> dict[str, Any] | None:
    return ls.engine.last_prompt
