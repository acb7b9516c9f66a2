"""What the safe setting costs: prompt and generation speed of SmolLM2 with llama.cpp's
extra buffer types on (repacked weights) and off (`cpuExtraBuffers: off`, the default on
AMX CPUs), alternating runs in one worker process each, same run.

    PYTHONPATH=server:. .venv/bin/python bench/extra_buffers.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from bench.machine import smollm2_here
from edgewise.config import Settings
from edgewise.model.doctor import check


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--generate", type=int, default=64)
    args = parser.parse_args()
    model = smollm2_here()
    if model is None:
        return 1
    found: dict[str, list[dict]] = {"on": [], "off": []}
    for _ in range(args.rounds):
        for mode in ("on", "off"):
            settings = Settings(model=str(model), cpu_extra_buffers=mode)
            result = asyncio.run(check(settings, args.prompt_tokens, args.generate))
            if not result["runs"]:
                print(f"{mode}: the model does not run: {result.get('error')}")
                return 1
            found[mode].append(result)
    print(
        f"| {'figure (median of ' + str(args.rounds) + ')':30} | {'off':>8} | {'on':>8} | ratio |"
    )
    print(f"|{'-' * 32}|{'-' * 10}|{'-' * 10}|-------|")
    for key, label in (
        ("prompt_tokens_per_s", "prompt tokens/s"),
        ("generated_tokens_per_s", "generated tokens/s"),
    ):
        off = statistics.median(r[key] for r in found["off"])
        on = statistics.median(r[key] for r in found["on"])
        print(f"| {label:30} | {off:8.1f} | {on:8.1f} | {off / on:5.2f} |")
    print(f"llama.cpp: {found['on'][0]['cpu_features']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
