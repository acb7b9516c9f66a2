"""Actions as infills (models without a chat template): where the holes are, where an
infill stops, how the infills become the reply the plan renders, and the prompt cut to
the model's context around the hole. Real tree-sitter, the tiny model's real vocabulary."""

from __future__ import annotations

import asyncio
from pathlib import Path

from edgewise.actions.annotate import find_jsdoc_types, find_python, plan_jsdoc_types, plan_python
from edgewise.actions.docstring import find_target, plan_insert
from edgewise.model.llama import LlamaBackend
from edgewise.model.stops import FirstStop, SectionStop, TypeStop
from edgewise.pipeline.prompts import infill_prompt
from tests.unit.test_action_edits import context

CODE = (
    "import math\n\n\n"
    "def circle_area(radius, precision=2, *args, **kwargs):\n"
    "    value = math.pi * radius ** 2\n"
    "    return round(value, precision)\n"
)


def test_a_docstring_is_the_infill_between_its_quotes() -> None:
    ctx = context(CODE, 4, 5)
    target = find_target(ctx)
    assert target is not None
    plan = plan_insert(ctx, target)
    assert plan is not None and plan.infill is not None
    (hole,) = plan.infill.holes
    assert hole.before.endswith('precision=2, *args, **kwargs):\n    """')
    assert hole.after.startswith('"""\n    value = math.pi')
    assert hole.before + hole.after == CODE.replace("kwargs):\n", 'kwargs):\n    """"""\n'), (
        "the file, with the docstring's quotes written"
    )
    infill = 'Return the area of a circle."""\n    value'
    assert infill[: hole.stop(infill)] == "Return the area of a circle."
    assert plan.render(plan.infill.reply([infill[: hole.stop(infill)]])).text == (
        '    """Return the area of a circle."""\n'
    )


def test_each_missing_type_is_the_infill_after_its_colon() -> None:
    ctx = context(CODE, 4, 5)
    target = find_python(ctx)
    assert target is not None
    plan = plan_python(ctx, target)
    assert plan is not None and plan.infill is not None
    holes = plan.infill.holes
    heads = [h.before.rsplit("\n", 1)[1] + "|" + h.after.split("\n", 1)[0] for h in holes]
    assert heads == [
        "def circle_area(radius: |, precision=2, *args, **kwargs):",
        "def circle_area(radius, precision: | = 2, *args, **kwargs):",
        "def circle_area(radius, precision=2, *args: |, **kwargs):",
        "def circle_area(radius, precision=2, *args, **kwargs: |):",
        "def circle_area(radius, precision=2, *args, **kwargs) -> |:",
    ]
    reply = plan.infill.reply(["float", "int", "os.system('x')", "", "float"])
    rendered = plan.render(reply)
    # code is no type: left out, like the parameter the model gave nothing for
    assert rendered.text == ("(radius: float, precision: int = 2, *args, **kwargs) -> float:"), (
        rendered.text
    )


def test_where_a_type_ends() -> None:
    param = TypeStop(",=")
    assert param("dict[str, int], precision") == len("dict[str, int]")
    assert param("int = 2") == len("int ")
    assert param("Callable[[int], str])") == len("Callable[[int], str]")
    assert param("int\n    value") == 3
    assert TypeStop(":")("list[int]:\n") == len("list[int]")
    assert param("Optional[") is None, "still growing"
    both = FirstStop((TypeStop(":"), SectionStop()))
    assert both("A reply.\n### Instruction") == len("A reply.")


def test_an_infill_prompt_is_cut_to_the_context_around_the_hole(tiny_model: Path) -> None:
    backend = LlamaBackend.load_vocab(tiny_model, 4096)
    long = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(200)) + CODE
    ctx = context(long, long.count("\n") - 2, 5)
    target = find_target(ctx)
    assert target is not None and target.name == "circle_area"
    plan = plan_insert(ctx, target)
    assert plan is not None and plan.infill is not None
    hole = plan.infill.holes[0]
    whole = asyncio.run(infill_prompt(backend, hole, True, 100_000))
    assert not whole.notes and whole.format == "fim"
    cut = asyncio.run(infill_prompt(backend, hole, True, 200))
    assert len(cut.tokens) <= 200 < len(whole.tokens)
    assert cut.notes and "to fit 200 tokens" in cut.notes[0]
    assert cut.text.endswith(
        '"""<|fim_suffix|>"""\n    value = math.pi * radius ** 2\n'
        "    return round(value, precision)\n<|fim_middle|>"
    )
    assert '**kwargs):\n    """<|fim_suffix|>' in cut.text, "the text next to the hole stays"
    prefix = asyncio.run(infill_prompt(backend, hole, False, 200))
    assert prefix.format == "prefix" and prefix.text.endswith('**kwargs):\n    """')
    assert "<|fim_" not in prefix.text and len(prefix.tokens) <= 200


def test_each_jsdoc_type_is_the_infill_between_its_braces() -> None:
    js = "export function label(name, count = 1) {\n  return `${name}: ${count}`;\n}\n"
    ctx = context(js, 0, 18, "javascript")
    target = find_jsdoc_types(ctx)
    assert target is not None
    plan = plan_jsdoc_types(ctx, target)
    assert plan is not None and plan.infill is not None
    holes = plan.infill.holes
    assert [h.before.rsplit("\n", 1)[1] + "|" + h.after.split("\n", 1)[0] for h in holes] == [
        " * @param {|} name",
        " * @param {|} count",
        " * @returns {|}",
    ]
    assert holes[0].after.endswith(" */\n" + js)
    assert holes[0].stop("string} name\n") == len("string")
    reply = plan.infill.reply(["string", "*/ evil", "string"])
    assert plan.render(reply).text == "/**\n * @param {string} name\n * @returns {string}\n */\n"
