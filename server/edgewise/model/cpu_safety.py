"""Which llama.cpp fast paths are safe on this CPU.

On CPUs with AMX (Intel Sapphire/Emerald/Granite Rapids: ``amx_tile amx_int8`` in
``/proc/cpuinfo``), llama.cpp repacks Q4_0, Q4_1, Q8_0 and K-quant weights into AMX
buffers, and the first decode then segfaults inside ``ggml_backend_amx_mul_mat``
(llama.cpp issue #20824; the same crash in Ollama, issues #17205 and #17249).
Loading with the extra buffer types off (``use_extra_bufts = False``) runs the same
model correctly there. No llama-cpp-python release is known to carry a fix, so with
``cpuExtraBuffers: auto`` every version is treated as affected on an AMX CPU.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

AMX_FLAGS = frozenset({"amx_tile", "amx_int8", "amx_bf16"})
UPSTREAM_ISSUE = "llama.cpp issue #20824 (segfault in ggml_backend_amx_mul_mat)"
# First llama-cpp-python release known to fix the crash; None: no release known.
AMX_FIXED_IN: tuple[int, ...] | None = None


@dataclass(frozen=True)
class BufferChoice:
    extra_buffers: bool
    reason: str


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU feature flags the kernel lists (empty where there is no such file)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def parse_version(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in version.split("."):
        digits = "".join(c for c in part if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def affected(version: str) -> bool:
    """Whether this llama-cpp-python version has the AMX crash."""
    return AMX_FIXED_IN is None or parse_version(version) < AMX_FIXED_IN


def choose_extra_buffers(setting: str, flags: frozenset[str], version: str) -> BufferChoice:
    """The ``cpuExtraBuffers`` rule: ``on``/``off`` as set; ``auto`` turns them off on a
    CPU with AMX when the installed llama-cpp-python has the crash."""
    if setting == "on":
        return BufferChoice(True, "cpuExtraBuffers is on")
    if setting == "off":
        return BufferChoice(False, "cpuExtraBuffers is off")
    amx = sorted(flags & AMX_FLAGS)
    if amx and affected(version):
        return BufferChoice(
            False,
            f"this CPU has AMX ({' '.join(amx)}) and llama-cpp-python {version} crashes on it "
            f"({UPSTREAM_ISSUE}): extra buffer types off",
        )
    return BufferChoice(True, "no known crash on this CPU: extra buffer types on")


@functools.cache
def installed_llama_version() -> str:
    """Read once per process (reading package metadata takes milliseconds)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llama-cpp-python")
    except PackageNotFoundError:
        return "unknown"
