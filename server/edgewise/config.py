"""Typed settings, defined once by schemas/config.schema.json.

Settings arrive as a plain dict (Neovim, Emacs, the CLI) or wrapped under an
``edgewise`` key (VS Code). Invalid values never stop the server: each invalid key is
reported and its default is used instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import cattrs
import jsonschema
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from edgewise.schemas import load_schema


@dataclass(kw_only=True, frozen=True)
class Pricing:
    device_watts: float = 30.0
    price_per_kwh: float = 0.3
    cloud_input_per_million: float = 3.0
    cloud_output_per_million: float = 15.0
    hardware_price: float = 0.0
    hardware_life_years: float = 3.0
    hardware_hours_per_day: float = 8.0
    hardware_share: float = 1.0
    currency: str = "USD"


@dataclass(kw_only=True, frozen=True)
class RemotePricing:
    """Pricing of a remote inference server (a team's GPU box, or a hosted endpoint)."""

    device_watts: float = 300.0
    price_per_kwh: float = 0.3
    input_per_million: float = 0.0
    output_per_million: float = 0.0
    per_hour: float = 0.0


@dataclass(kw_only=True, frozen=True)
class Budget:
    """Budgets per period (0: none) in ``unit``; see report/budget.py."""

    unit: str = "money"
    daily: float = 0.0
    weekly: float = 0.0
    monthly: float = 0.0
    warn_at_percent: float = 80.0
    at_limit: str = "warn"
    week_starts_on: str = "monday"
    start_hour: int = 0


@dataclass(kw_only=True, frozen=True)
class HostedPrice:
    name: str
    input_per_million: float
    output_per_million: float


def _default_hosted() -> tuple[HostedPrice, ...]:
    return (
        HostedPrice(name="small hosted model", input_per_million=0.15, output_per_million=0.6),
        HostedPrice(name="mid-size hosted model", input_per_million=3.0, output_per_million=15.0),
        HostedPrice(name="large hosted model", input_per_million=15.0, output_per_million=75.0),
    )


@dataclass(kw_only=True, frozen=True)
class CostComparison:
    """What the cost views compare edgewise's cost with (see report/comparison.py)."""

    hosted: tuple[HostedPrice, ...] = field(default_factory=_default_hosted)
    price_multiplier: float = 1.0
    subscription_name: str = "flat subscription"
    subscription_per_month: float = 19.0


CHECK_TOOLS = ("ruff", "mypy", "pyright", "eslint", "tsc")


@dataclass(kw_only=True, frozen=True)
class Checks:
    """Which of the project's own checkers may gate an edit, and how long each may take."""

    tools: tuple[str, ...] = CHECK_TOOLS
    timeout_ms: int = 10000


@dataclass(kw_only=True, frozen=True)
class Settings:
    model: str = ""
    backend: str = "embedded"
    remote_model: str = ""
    api_key_env: str = ""
    remote_tokenizer: str = ""
    request_timeout_ms: int = 30000
    max_parallel_requests: int = 4
    context_budget: int = 1024
    max_tokens: int = 64
    action_max_tokens: int = 256
    action_prompt: str = "auto"
    action_samples: int = 1
    checks: Checks = field(default_factory=Checks)
    allow_test_changes: bool = False
    min_confidence: float = 0.05
    low_confidence: float = 0.3
    trim_below: float = 0.5
    recent_edits: bool = True
    open_file_snippets: bool = True
    temperature: float = 0.0
    seed: int = 42
    context_length: int = 4096
    threads: int = 0
    cpu_extra_buffers: str = "auto"
    max_completion_ms: int = 5000
    cold_prompt_ms: int = 800
    debounce_ms: int = 100
    keep_prompts: bool = False
    pricing: Pricing = field(default_factory=Pricing)
    remote_pricing: RemotePricing = field(default_factory=RemotePricing)
    budget: Budget = field(default_factory=Budget)
    cost_comparison: CostComparison = field(default_factory=CostComparison)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    for cls in (Pricing, RemotePricing, Budget, HostedPrice, CostComparison, Checks, Settings):
        names = {f.name: override(rename=camel(f.name)) for f in dataclasses.fields(cls)}
        structure = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True, **names)  # type: ignore[arg-type]  # mypy matches **names against the _cattrs_ flags too; its keys are field names
        unstructure = make_dict_unstructure_fn(cls, conv, **names)  # type: ignore[arg-type]  # **names: field names, which mypy matches against the _cattrs_ flags too
        conv.register_structure_hook(cls, structure)
        conv.register_unstructure_hook(cls, unstructure)
    return conv


CONVERTER = _make_converter()


@dataclass(frozen=True)
class SettingsResult:
    settings: Settings
    problems: list[str]


def unwrap(raw: Any) -> Any:
    """Accept both the VS Code shape ({"edgewise": {...}}) and a plain dict."""
    if isinstance(raw, dict) and isinstance(raw.get("edgewise"), dict):
        return raw["edgewise"]
    return raw


def _drop(tree: dict[str, Any], path: list[str | int]) -> None:
    while any(isinstance(key, int) for key in path):  # a bad list item: the whole list goes
        path = path[: max(i for i, key in enumerate(path) if isinstance(key, int))]
    node: Any = tree
    for key in path[:-1]:
        node = node[key]
    if path:
        node.pop(path[-1], None)


def parse_settings(raw: Any) -> SettingsResult:
    """Validate against the schema; keep the valid keys, default the invalid ones."""
    raw = unwrap(raw)
    if raw is None:
        return SettingsResult(Settings(), [])
    if not isinstance(raw, dict):
        return SettingsResult(Settings(), [f"settings must be an object, got {type(raw).__name__}"])
    data: dict[str, Any] = _deep_copy(raw)
    validator = jsonschema.Draft202012Validator(load_schema("config"))
    problems: list[str] = []
    for path in _non_finite(data, []):
        # Python's JSON reader takes NaN and Infinity; the schema's bounds cannot refuse
        # them (every comparison with NaN is false), and the model would get them
        where = ".".join(str(p) for p in path)
        problems.append(f"setting '{where}': not a finite number; using the default")
        with contextlib.suppress(KeyError, IndexError, TypeError):  # its list went already
            _drop(data, path)
    for _ in range(64):  # each round removes at least one offending key
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if not errors:
            break
        for error in errors:
            path = list(error.absolute_path)
            if error.validator == "additionalProperties":
                extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
                for key in extra:
                    where = ".".join(str(p) for p in [*path, key])
                    problems.append(f"unknown setting '{where}' ignored")
                    _drop(data, [*path, key])
                continue
            where = ".".join(str(p) for p in path) or "(root)"
            problems.append(f"setting '{where}': {_message(error)}; using the default")
            _drop(data, path)
            break
    settings = CONVERTER.structure(data, Settings)
    return SettingsResult(settings, problems)


def _message(error: jsonschema.ValidationError) -> str:
    """The schema's complaint, quoting at most the start of a long value."""
    message: str = error.message
    if len(message) <= 200:
        return message
    shown = repr(error.instance)
    return message.replace(shown, shown[:40] + "…")[:200]


def _non_finite(value: Any, path: list[Any]) -> list[list[Any]]:
    """The paths of every NaN or infinite number in ``value`` (deepest last)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [path]
    found: list[list[Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_non_finite(item, [*path, key]))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_non_finite(item, [*path, index]))
    return found


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = CONVERTER.unstructure(settings)
    return data
