"""Model replies that carry code: where they stop, what the code is, and how it is
re-indented to sit exactly where the replaced code sat."""

from __future__ import annotations

import re
import textwrap
from collections import Counter

from edgewise.actions.base import RenderError, StopCheck
from edgewise.model.stops import FENCE, FenceStop

MAX_PROSE = 4000


def fence(language: str) -> str:
    """The opening of the reply, written for the model: a fenced block of ``language``."""
    return f"{FENCE}{language}\n"


def fence_stop() -> StopCheck:
    """Stops generation at the fence closing the (prefilled) code block."""
    return FenceStop()


def extract_code(reply: str) -> str:
    """The code of the first fenced block of the reply (or the whole reply without
    fences), with its trailing blank space removed and ``\\n`` line breaks."""
    reply = reply.replace("\r\n", "\n").replace("\r", "\n")
    match = re.search(r"```[\w+#.-]*[ \t]*\n(.*?)(?:```|\Z)", reply, flags=re.DOTALL)
    code = match.group(1) if match else reply.replace(FENCE, "")
    lines = [line.rstrip() for line in code.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def indent_unit(code: str) -> str:
    """The indentation step the code uses: a tab, or the most common increase in
    indentation between consecutive lines (four spaces when nothing is indented)."""
    tabs = spaces = 0
    previous = 0
    steps: Counter[int] = Counter()
    for line in code.split("\n"):
        stripped = line.lstrip(" \t")
        if not stripped:
            continue
        lead = line[: len(line) - len(stripped)]
        tabs += lead.startswith("\t")
        spaces += lead.startswith(" ")
        width = len(lead.expandtabs(4))
        if width > previous:
            steps[width - previous] += 1
        previous = width
    if tabs > spaces:
        return "\t"
    if not steps:
        return "    "
    best = max(steps.values())
    return " " * min(step for step, count in steps.items() if count == best)


def reindent(code: str, base: str, unit: str) -> str:
    """Code moved to ``base`` indentation, its inner indentation rewritten with ``unit``
    (the file's own step: a file indented with tabs gets tabs)."""
    code = textwrap.dedent(code)
    model_unit = indent_unit(code)
    out = []
    for line in code.split("\n"):
        if not line.strip():
            out.append("")
            continue
        stripped = line.lstrip(" \t")
        lead = line[: len(line) - len(stripped)]
        if model_unit == "\t":
            depth, rest = lead.count("\t"), len(lead.replace("\t", ""))
        else:
            depth, rest = divmod(len(lead.expandtabs(len(model_unit))), len(model_unit))
        out.append(base + unit * depth + " " * rest + stripped)
    return "\n".join(out)


def code_for_prompt(code: str) -> str:
    """The code the model is shown: ``\\n`` line breaks and no common indentation."""
    return textwrap.dedent(code.replace("\r\n", "\n").replace("\r", "\n"))


def clean_prose(text: str) -> str:
    """Model prose that is safe to show: printable, paragraphs kept, length bounded."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffd", "")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not text:
        raise RenderError("the model produced no text")
    return text[:MAX_PROSE]


def code_reply(reply: str, base: str, unit: str) -> str:
    """The code of a reply, re-indented; a reply without code cannot be used."""
    code = extract_code(reply)
    if not code.strip():
        raise RenderError("the model's reply had no code")
    return reindent(code, base, unit)
