"""The names of edgewise's commands (``workspace/executeCommand``) and notifications."""

from __future__ import annotations

CMD_REPORT_APPLIED = "edgewise.reportApplied"
CMD_INLINE_ACCEPTED = "edgewise.inlineAccepted"
CMD_COST_REPORT = "edgewise.costReport"
CMD_RESUME_BUDGET = "edgewise.resumeBudget"
CMD_LAST_PROMPT = "edgewise.lastPrompt"
CMD_APPLY_ACTION = "edgewise.applyAction"
CMD_DOCUMENT_STATE = "edgewise.documentState"
CMD_REWRITE = "edgewise.rewrite"
CMD_EXPLAIN = "edgewise.explain"
STATUS = "edgewise/status"
