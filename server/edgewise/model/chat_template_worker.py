"""The process that renders chat templates for edgewise (see chat_template.py).

Run as a script: one JSON request a line on stdin (template, bos, eos, messages), one
JSON answer a line on stdout (``{"prompt": ...}`` or ``{"error": ...}``). Its address
space is capped, so a template that builds a huge string fails here with a MemoryError
instead of taking the machine's memory; the parent kills it when a render runs too long.
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

ADDRESS_SPACE = 1024 * 1024 * 1024  # bytes, on top of what the interpreter already maps


def main() -> None:
    max_chars = int(sys.argv[1])
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    limit = mapped + ADDRESS_SPACE
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    formatters: dict[tuple[str, str, str], Any] = {}
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            key = (request["template"], request["bos"], request["eos"])
            formatter = formatters.get(key)
            if formatter is None:
                formatter = Jinja2ChatFormatter(
                    key[0], eos_token=key[2], bos_token=key[1], add_generation_prompt=True
                )
                formatters = {key: formatter}
            prompt = str(formatter(messages=request["messages"]).prompt)
            if len(prompt) > max_chars:
                answer = {"error": f"it made a prompt of over {max_chars} characters"}
            else:
                answer = {"prompt": prompt}
        except MemoryError:
            answer = {"error": "it needed more than 1 GiB of memory"}
        except Exception as exc:  # the template's own error (raise_exception, a typo)
            answer = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
