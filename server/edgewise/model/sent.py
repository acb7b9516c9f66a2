"""What determines a generation's text, as the host saw it: the exact prompt sent (its
hash), the sampler, the stop rule, and the engine that ran it (backend and version,
threads, the CPU features llama.cpp used). Every generation through ``ModelHost`` gets
these facts (``GenerationResult.sent``); the report carries them and ``edgewise replay``
runs the same request again from them.

A prompt's hash is the sha256 of its canonical JSON document (:func:`prompt_document`):
the token ids the embedded model evaluates, and the forms a remote server is sent
instead (text, chat messages, /infill parts), with token healing's prefix."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from edgewise.model import stops
from edgewise.model.backend import GenerationRequest, StopCheck

# Remote servers that take a request's seed (and, at temperature 0, decode greedily):
# the same request on the same server build gives the same text. Others (a hosted
# OpenAI-compatible API) promise no such thing.
SEEDED_SERVERS = ("llama.cpp", "llama-cpp-python", "vllm", "ollama")
# Stop reasons that depend on the clock or the user, not on the model: never reproducible.
TIMED_STOPS = ("time", "cancelled")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompt_document(request: GenerationRequest) -> dict[str, Any]:
    """The prompt exactly as the request carries it (what its hash is of)."""
    return {
        "tokens": list(request.prompt),
        "text": request.text,
        "messages": request.messages,
        "infill": list(request.infill) if request.infill is not None else None,
        "heal_prefix": request.heal_prefix,
    }


def prompt_sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def stop_spec(stop: StopCheck | None) -> dict[str, Any] | None:
    """A stop rule as data (None: no rule; ``{"rule": "unknown"}``: one that cannot be
    written down, e.g. a closure). The rules of ``model/stops.py`` are frozen dataclasses;
    a rule made of rules (``FirstStop``) is written down with its rules."""
    if stop is None:
        return None
    try:
        spec = _as_data(stop)
        json.dumps(spec)
    except (TypeError, ValueError):
        return {"rule": "unknown"}
    return spec if isinstance(spec, dict) else {"rule": "unknown"}


def _as_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if type(value) is not _stop_class(name):
            raise TypeError(f"not a stop rule of model/stops.py: {name}")
        fields = {f.name: _as_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"rule": name, "fields": fields}
    if isinstance(value, list | tuple):
        return [_as_data(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot write down {type(value).__name__}")


def stop_from_spec(spec: dict[str, Any] | None) -> StopCheck | None:
    """The stop rule a :func:`stop_spec` describes; ValueError when it cannot be rebuilt."""
    if spec is None:
        return None
    rule: StopCheck = _from_data(spec)
    return rule


def _from_data(value: Any) -> Any:
    if isinstance(value, dict) and "rule" in value:
        name = value.get("rule")
        cls = _stop_class(name)
        if cls is None:
            raise ValueError(f"the stop rule '{name}' cannot be rebuilt")
        fields = {k: _from_data(v) for k, v in dict(value.get("fields") or {}).items()}
        return cls(**fields)
    if isinstance(value, list):  # JSON has lists where the rule had tuples
        return tuple(_from_data(item) for item in value)
    return value


def _stop_class(name: object) -> Any:
    """The dataclass of ``model/stops.py`` with this name, or None."""
    cls = getattr(stops, name, None) if isinstance(name, str) else None
    return cls if isinstance(cls, type) and dataclasses.is_dataclass(cls) else None


@dataclass(frozen=True)
class EngineFacts:
    """The engine a generation ran on."""

    backend: str  # llama-cpp-python | remote:<server kind>
    version: str  # llama-cpp-python's version; "unknown" for a remote server
    threads: tuple[int, int] | None  # (generation, prompt) threads; None: not known here
    cpu_features: str | None  # llama.cpp's system_info in the model process
    seeded: bool  # the backend takes the seed (a remote server may ignore it)


@dataclass(frozen=True)
class SentFacts:
    """One generation's request and answer, as far as they determine its text."""

    prompt: dict[str, Any]
    prompt_sha256: str
    output: str  # the model's raw text (before any post-processing)
    output_sha256: str
    max_tokens: int
    temperature: float
    seed: int
    stop: dict[str, Any] | None
    stop_reason: str
    engine: EngineFacts

    @classmethod
    def of(
        cls, request: GenerationRequest, text: str, stop_reason: str, engine: EngineFacts
    ) -> SentFacts:
        document = prompt_document(request)
        return cls(
            prompt=document,
            prompt_sha256=prompt_sha256(document),
            output=text,
            output_sha256=sha256_text(text),
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            seed=request.seed,
            stop=stop_spec(request.stop),
            stop_reason=stop_reason,
            engine=engine,
        )

    def reproducible(self) -> tuple[bool, str]:
        """Whether running the request again must give the same text, and why (not)."""
        if self.stop_reason in TIMED_STOPS:
            return False, f"generation was cut by {self.stop_reason}, not by the model"
        if self.stop is not None and self.stop.get("rule") == "unknown":
            return False, "its stop rule cannot be written down"
        if not self.engine.seeded:
            return False, f"the server ({self.engine.backend}) does not promise to honour seeds"
        if self.engine.backend.startswith("remote:"):
            return True, "the server takes the seed; its build and load are outside edgewise"
        how = "greedy" if self.temperature <= 0 else f"seed {self.seed}"
        return True, f"same model file, prompt, sampler ({how}), engine version, threads and CPU"

    def request_fields(self) -> dict[str, Any]:
        """What the prompt store keeps to send the same request again."""
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
            "stop": self.stop,
        }
