"""Where the action runner's results were: the LSP layer imports ``ActionResult`` from
here. The runner itself is now the action pipeline (``edgewise/pipeline/action.py``)."""

from edgewise.pipeline.action import ActionResult

__all__ = ["ActionResult"]
