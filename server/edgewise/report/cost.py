"""What a model call cost: energy, local money, and the cloud-equivalent price."""

from __future__ import annotations

from dataclasses import dataclass

from edgewise.config import Pricing, RemotePricing

MS_PER_HOUR = 3_600_000.0


@dataclass(frozen=True)
class Cost:
    energy_wh: float
    local: float
    cloud_equivalent: float
    currency: str

    def to_dict(self) -> dict[str, float | str]:
        return {
            "energy_wh": self.energy_wh,
            "local": self.local,
            "cloud_equivalent": self.cloud_equivalent,
            "currency": self.currency,
        }


def compute_cost(
    pricing: Pricing, model_ms: float, prompt_tokens: int, completion_tokens: int
) -> Cost:
    """Energy = watts x hours the model ran; money = kWh x price; cloud = tokens x list price.

    A cloud API bills every prompt token it is sent, so the cloud-equivalent counts all
    prompt tokens (the local KV-cache reuse is our saving, not the cloud's).
    """
    energy_wh = pricing.device_watts * max(model_ms, 0.0) / MS_PER_HOUR
    local = energy_wh / 1000.0 * pricing.price_per_kwh
    cloud = (
        prompt_tokens * pricing.cloud_input_per_million
        + completion_tokens * pricing.cloud_output_per_million
    ) / 1_000_000.0
    return Cost(energy_wh, local, cloud, pricing.currency)


def compute_remote_cost(
    remote: RemotePricing,
    pricing: Pricing,
    server_ms: float,
    prompt_tokens: int,
    completion_tokens: int,
) -> Cost:
    """A remote server: energy = the server's watts x the time it spent on the request;
    local money = that energy x its kWh price + what the endpoint bills per token; the
    cloud-equivalent is priced as for the embedded model.

    The energy assumes the request had the server to itself: when it serves several
    requests at once (parallel slots, other users) this is an upper bound.
    """
    energy_wh = remote.device_watts * max(server_ms, 0.0) / MS_PER_HOUR
    billed = (
        prompt_tokens * remote.input_per_million + completion_tokens * remote.output_per_million
    ) / 1_000_000.0
    local = energy_wh / 1000.0 * remote.price_per_kwh + billed
    cloud = (
        prompt_tokens * pricing.cloud_input_per_million
        + completion_tokens * pricing.cloud_output_per_million
    ) / 1_000_000.0
    return Cost(energy_wh, local, cloud, pricing.currency)
