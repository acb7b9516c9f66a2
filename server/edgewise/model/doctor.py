"""`edgewise doctor`: loads the configured model in a worker process, runs a real
decode there and says whether the model runs on this machine, how fast, with which CPU
features, or how it crashed."""

from __future__ import annotations

import asyncio
from typing import Any

from edgewise.config import Settings
from edgewise.model.backend import ModelError
from edgewise.model.cpu_safety import AMX_FLAGS, cpu_flags
from edgewise.model.host import ModelHost
from edgewise.model.process_backend import ProcessBackend, speeds
from edgewise.model.worker_client import WorkerGone


async def check(settings: Settings, prompt_tokens: int = 256, generate: int = 32) -> dict[str, Any]:
    host = ModelHost(settings, allow_download=False)
    out: dict[str, Any] = {
        "runs": False,
        "cpu_amx": sorted(cpu_flags() & AMX_FLAGS),
    }
    try:
        backend = await host.backend()
        if not isinstance(backend, ProcessBackend):
            out["error"] = "the model is remote: `doctor` checks the embedded model"
            return out
        facts = backend.facts
        out.update(
            model=backend.info().name,
            path=backend.info().path,
            extra_buffers=facts.extra_buffers,
            extra_buffers_reason=facts.extra_buffers_reason,
            cpu_features=facts.system_info,
            load_ms=round(facts.load_ms, 1),
        )
        bench = await backend.bench(prompt_tokens, generate)
        prompt_tps, generated_tps = speeds(bench)
        out.update(
            runs=True,
            prompt_tokens=bench["prompt_tokens"],
            prompt_tokens_per_s=round(prompt_tps or 0.0, 1),
            generated_tokens=bench["generated_tokens"],
            generated_tokens_per_s=round(generated_tps or 0.0, 1),
        )
    except WorkerGone as exc:
        out.update(error=str(exc), signal=exc.exit.signal_name())
    except ModelError as exc:
        out["error"] = str(exc)
    finally:
        host.close()
    return out


def run(settings: Settings) -> dict[str, Any]:
    return asyncio.run(check(settings))


def describe(found: dict[str, Any]) -> str:
    lines = []
    if "model" in found:
        lines.append(f"model: {found['model']} ({found['path']})")
    amx = found.get("cpu_amx") or []
    lines.append(f"CPU AMX: {' '.join(amx) if amx else 'no'}")
    if "extra_buffers" in found:
        state = "on" if found["extra_buffers"] else "off"
        lines.append(f"extra buffer types: {state} ({found['extra_buffers_reason']})")
    if found.get("cpu_features"):
        lines.append(f"llama.cpp uses: {found['cpu_features']}")
    if found["runs"]:
        lines.append(
            f"the model runs: {found['prompt_tokens_per_s']} prompt tokens/s "
            f"({found['prompt_tokens']} tokens), {found['generated_tokens_per_s']} generated "
            f"tokens/s ({found['generated_tokens']} tokens)"
        )
    else:
        lines.append(f"the model does not run: {found.get('error', 'unknown error')}")
    return "\n".join(lines)
