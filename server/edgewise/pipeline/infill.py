"""An action on a model without a chat template: each hole of its infill form filled
(fill-in-the-middle, or the text before the hole as a prefix prompt) and the infills
joined into the reply its plan renders; an action without one gets its instruction as
plain text to continue (prefix)."""

from __future__ import annotations

import threading
from dataclasses import replace

from edgewise.actions.base import Plan
from edgewise.actions.catalog import ActionSpec
from edgewise.errors import BadInput
from edgewise.model.backend import Backend, GenerationRequest, GenerationResult, StopCheck
from edgewise.model.stops import FirstStop, SectionStop
from edgewise.pipeline.postprocess import marker_stop
from edgewise.pipeline.prompts import ChatPrompt, infill_prompt, instruction_prompt
from edgewise.pipeline.services import Services


def uses_holes(plan: Plan, form: str) -> bool:
    return form != "chat" and plan.infill is not None


def as_prompted(plan: Plan, form: str) -> Plan:
    """The plan as its reply arrives: infills make the whole reply (nothing prefilled)."""
    return replace(plan, prefill="") if uses_holes(plan, form) else plan


async def generate_plain(
    services: Services,
    backend: Backend,
    spec: ActionSpec,
    plan: Plan,
    user: str,
    uri: str,
    cancel: threading.Event | None,
    form: str,
    budget: int,
    seed: int | None = None,
    temperature: float | None = None,
) -> GenerationResult:
    """The action's infills (or its instruction as a prefix prompt), generated (an extra
    sample passes its own ``seed`` and ``temperature``)."""
    sampling = (
        services.settings.seed if seed is None else seed,
        services.settings.temperature if temperature is None else temperature,
    )
    settings = services.settings
    if plan.infill is None:
        prompt = await instruction_prompt(backend, spec.system, user, plan.prefill)
        check_fits(prompt, budget)
        services.last_prompt = prompt.described(spec.id, uri)
        stop = FirstStop((plan.stop or marker_stop(plan.stop_markers), SectionStop()))
        return await send(services, prompt, stop, settings.action_max_tokens, cancel, sampling)
    prompts: list[ChatPrompt] = []
    results: list[GenerationResult] = []
    for hole in plan.infill.holes:
        prompt = await infill_prompt(backend, hole, form == "fim", budget)
        check_fits(prompt, budget)
        prompts.append(prompt)
        limit = min(hole.max_tokens or settings.action_max_tokens, settings.action_max_tokens)
        result = await send(services, prompt, hole.stop, limit, cancel, sampling)
        results.append(result)
        if result.stop_reason == "cancelled":
            break
    described = prompts[-1].described(spec.id, uri)
    if len(prompts) > 1:  # every hole's prompt, as sent
        described["text"] = "\n\n".join(p.text for p in prompts)
        described["prompt_tokens"] = sum(len(p.tokens) for p in prompts)
        described["notes"] = [f"{len(prompts)} infills, one per hole", *described["notes"]]
    services.last_prompt = described
    return joined(results, plan.infill.reply([r.text for r in results]))


def check_fits(prompt: ChatPrompt, budget: int) -> None:
    if len(prompt.tokens) > budget:
        raise BadInput(
            f"the code is too long for the model's context "
            f"({len(prompt.tokens)} tokens > {budget}); raise `contextLength`"
        )


async def send(
    services: Services,
    prompt: ChatPrompt,
    stop: StopCheck | None,
    max_tokens: int,
    cancel: threading.Event | None,
    sampling: tuple[int, float],
) -> GenerationResult:
    """One model call; ``sampling``: (seed, temperature)."""
    seed, temperature = sampling
    request = GenerationRequest(
        prompt=prompt.tokens,
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        stop=stop,
        text=prompt.text,
        infill=prompt.infill,
    )
    if cancel is not None:
        request.cancel = cancel
    return await services.host.generate(request)


def joined(results: list[GenerationResult], text: str) -> GenerationResult:
    """The holes' results as one: their tokens, times and probabilities added up, the
    reply their texts make."""
    first, last = results[0], results[-1]
    reasons = [r.stop_reason for r in results]
    reason = next((r for r in ("cancelled", "repeat", "time") if r in reasons), last.stop_reason)
    return replace(
        first,
        text=text,
        pieces=[p for r in results for p in r.pieces],
        probs=[p for r in results for p in r.probs],
        prompt_tokens=sum(r.prompt_tokens for r in results),
        cached_tokens=sum(r.cached_tokens for r in results),
        completion_tokens=sum(r.completion_tokens for r in results),
        prompt_ms=sum(r.prompt_ms for r in results),
        generation_ms=sum(r.generation_ms for r in results),
        total_ms=sum(r.total_ms for r in results),
        queue_ms=sum(r.queue_ms for r in results),
        stop_reason=reason,
    )
