"""The errors a request can end in, each with a message fit for the user, and the one
place that says how a door shows them.

    EdgewiseError
      ModelError (= ModelUnavailable)  the model cannot be loaded, reached or run
      RequestError                     this request cannot be served as asked
        UnknownAction                  no action by that id
        ActionNotApplicable            the action does not apply at that place
        BadInput                       the input itself is unusable (too long, ...)
        BudgetExceeded                 a budget's limit pauses the model (settings budget)

The language server's handlers catch :class:`EdgewiseError` and tell it through
``EdgewiseServer.tell_error`` (lsp/language_server.py): :func:`user_message` is the text,
:func:`severity` the message type. The request errors also derive from
:class:`ModelError`, so the CLI and batch, written as ``except ModelError``, still answer.
"""

from __future__ import annotations

from typing import Literal


class EdgewiseError(Exception):
    """Something a request ended in, with a message fit for the user."""


class ModelError(EdgewiseError):
    """A model that cannot be used, with a message fit for the user."""


ModelUnavailable = ModelError


class RequestError(ModelError):
    """This request cannot be served as asked (the model may be fine)."""


class UnknownAction(RequestError):
    """No action has this id."""


class ActionNotApplicable(RequestError):
    """The action does not apply here: another language, another place, no room."""


class BadInput(RequestError):
    """The input itself cannot be used (e.g. code too long for the model's context)."""


class BudgetExceeded(RequestError):
    """A budget is used up and ``budget.atLimit`` is ``stop``: no model runs until the
    period ends, the user resumes, or the budget is raised."""


Severity = Literal["error", "warning"]


def severity(exc: EdgewiseError) -> Severity:
    """How loudly a door shows it: a model that cannot run is an error; a request that
    does not fit where it was made is a warning."""
    return "warning" if isinstance(exc, RequestError) else "error"


def user_message(exc: EdgewiseError) -> str:
    """The line a person reads (editor message, batch record, CLI stderr)."""
    return f"edgewise: {exc}"
