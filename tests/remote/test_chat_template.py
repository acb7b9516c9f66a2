"""A chat template from outside (a server's /props, a GGUF) is rendered with a time and a
memory limit: a looping or memory-hungry template fails the action in seconds with a
clear message, and the server goes on serving."""

from __future__ import annotations

import resource
import time

import pytest
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from edgewise.config import parse_settings
from edgewise.context.positions import Pos
from edgewise.engine import Engine
from edgewise.model.backend import ModelError
from edgewise.model.chat_template import RENDER_S, ChatTemplate
from tests.lsp.sample_files import PYTHON
from tests.remote.misbehaving import HUGE_TEMPLATE, LOOPING_TEMPLATE, MisbehavingServer

PY_URI = "file:///work/project/files.py"
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
MESSAGES = [
    {"role": "system", "content": "You write docstrings."},
    {"role": "user", "content": PYTHON * 20},
    {"role": "assistant", "content": '"""'},
]


def test_a_normal_template_renders_as_llama_cpp_python_does_in_about_a_millisecond():
    template = ChatTemplate(CHATML, "<s>", "</s>", "a test")
    try:
        expected = Jinja2ChatFormatter(CHATML, eos_token="</s>", bos_token="<s>")
        assert template.render(MESSAGES) == expected(messages=MESSAGES).prompt
        started = time.perf_counter()
        for _ in range(50):
            template.render(MESSAGES)
        per_render_ms = (time.perf_counter() - started) * 1000 / 50
        assert per_render_ms < 20  # measured: about 1 ms here
    finally:
        template.close()


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (LOOPING_TEMPLATE, f"took over {RENDER_S:g} s to render"),
        (HUGE_TEMPLATE, "it needed more than 1 GiB of memory"),
    ],
)
async def test_a_runaway_template_from_the_server_fails_the_action_not_the_server(
    template: str, message: str
):
    with MisbehavingServer("ok", template=template) as server:
        settings = parse_settings({"backend": server.url, "actionMaxTokens": 16})
        engine = Engine(settings.settings, allow_download=False)
        try:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            for _ in range(2):  # and again: a fresh renderer, the same limit
                started = time.monotonic()
                with pytest.raises(ModelError) as failure:
                    await engine.run_action(
                        "docstring", PY_URI, PYTHON, Pos(4, 6), Pos(4, 6), "python"
                    )
                assert time.monotonic() - started < RENDER_S + 5
                assert f"the chat template of the server at {server.url}" in str(failure.value)
                assert message in str(failure.value)
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
            assert grown < 150
            backend = await engine.host.backend()
            renderer = backend._formatter  # type: ignore[attr-defined]
            if template is LOOPING_TEMPLATE:  # the looping renderer was killed
                assert renderer._proc is None
            completion = await engine.complete(PY_URI, PYTHON, Pos(6, 8), "python")
            assert completion.text  # completions need no template: still served
        finally:
            engine.close()
