"""The AMX rule: llama.cpp's extra buffer types are turned off where they crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgewise.model import cpu_safety
from edgewise.model.cpu_safety import choose_extra_buffers, cpu_flags

SAPPHIRE_RAPIDS = frozenset("fpu sse2 avx2 avx512f amx_bf16 amx_tile amx_int8".split())
EPYC = frozenset("fpu sse2 avx2 sha_ni".split())


def test_auto_turns_extra_buffers_off_on_an_amx_cpu():
    choice = choose_extra_buffers("auto", SAPPHIRE_RAPIDS, "0.3.36")
    assert choice.extra_buffers is False
    assert "#20824" in choice.reason and "amx_int8" in choice.reason


def test_auto_keeps_them_on_a_cpu_without_amx():
    assert choose_extra_buffers("auto", EPYC, "0.3.36").extra_buffers is True


@pytest.mark.parametrize("flags", [SAPPHIRE_RAPIDS, EPYC])
def test_the_setting_wins_over_the_rule(flags):
    assert choose_extra_buffers("on", flags, "0.3.36").extra_buffers is True
    assert choose_extra_buffers("off", flags, "0.3.36").extra_buffers is False


def test_a_release_with_the_fix_keeps_them_on(monkeypatch):
    monkeypatch.setattr(cpu_safety, "AMX_FIXED_IN", (0, 3, 40))
    assert choose_extra_buffers("auto", SAPPHIRE_RAPIDS, "0.3.36").extra_buffers is False
    assert choose_extra_buffers("auto", SAPPHIRE_RAPIDS, "0.3.40").extra_buffers is True


def test_flags_are_read_from_cpuinfo(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu amx_tile amx_int8\n\nprocessor\t: 1\n")
    assert cpu_flags(info) == {"fpu", "amx_tile", "amx_int8"}
    assert cpu_flags(tmp_path / "missing") == frozenset()
