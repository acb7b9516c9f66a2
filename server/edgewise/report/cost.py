"""What a model call cost: energy, local money, amortised hardware, and the
cloud-equivalent price.

Hardware is a capital cost spread over the machine's life: one hour of active use costs
``price x share / (life years x 365 x hours in use per day)``. A report is charged for
the active time it accounts for (see :func:`active_ms`), so that the totals' hardware
divided by their active hours is that hourly rate again."""

from __future__ import annotations

from dataclasses import dataclass

from edgewise.config import Pricing, RemotePricing

MS_PER_HOUR = 3_600_000.0
DAYS_PER_YEAR = 365.0
# requests closer together than this are one stretch of active use; a longer pause is
# idle time, and the request after it counts only its own model time
ACTIVE_GAP_MS = 5 * 60_000.0


@dataclass(frozen=True)
class Cost:
    energy_wh: float
    local: float
    cloud_equivalent: float
    currency: str
    hardware: float = 0.0

    @property
    def total(self) -> float:
        """What running it here cost: energy (or a remote bill) plus hardware."""
        return self.local + self.hardware

    def to_dict(self) -> dict[str, float | str]:
        return {
            "energy_wh": self.energy_wh,
            "local": self.local,
            "cloud_equivalent": self.cloud_equivalent,
            "currency": self.currency,
            "hardware": self.hardware,
            "total": self.total,
        }


def hardware_per_hour(pricing: Pricing) -> float:
    """The machine's price per hour of active use (0 without a hardware price)."""
    hours = pricing.hardware_life_years * DAYS_PER_YEAR * pricing.hardware_hours_per_day
    if pricing.hardware_price <= 0 or hours <= 0:
        return 0.0
    return pricing.hardware_price * pricing.hardware_share / hours


def active_ms(model_ms: float, since_previous_ms: float | None) -> float:
    """The active time one request accounts for: the time since the previous request
    when that is under :data:`ACTIVE_GAP_MS` (the person was working meanwhile), else
    (the first request, or one after a pause) its own model time; never less than the
    model time."""
    model_ms = max(model_ms, 0.0)
    if since_previous_ms is None or since_previous_ms > ACTIVE_GAP_MS:
        return model_ms
    return max(since_previous_ms, model_ms)


def cloud_price(
    prompt_tokens: int, completion_tokens: int, per_m_in: float, per_m_out: float
) -> float:
    return (prompt_tokens * per_m_in + completion_tokens * per_m_out) / 1_000_000.0


def compute_cost(
    pricing: Pricing,
    model_ms: float,
    prompt_tokens: int,
    completion_tokens: int,
    active: float | None = None,
) -> Cost:
    """Energy = watts x hours the model ran; money = kWh x price; hardware = hourly
    hardware rate x active hours (``active`` ms, default the model time); cloud = tokens
    x list price.

    A cloud API bills every prompt token it is sent, so the cloud-equivalent counts all
    prompt tokens (the local KV-cache reuse is our saving, not the cloud's).
    """
    energy_wh = pricing.device_watts * max(model_ms, 0.0) / MS_PER_HOUR
    local = energy_wh / 1000.0 * pricing.price_per_kwh
    cloud = cloud_price(
        prompt_tokens,
        completion_tokens,
        pricing.cloud_input_per_million,
        pricing.cloud_output_per_million,
    )
    hours = (model_ms if active is None else active) / MS_PER_HOUR
    return Cost(
        energy_wh, local, cloud, pricing.currency, hardware_per_hour(pricing) * max(hours, 0.0)
    )


def compute_remote_cost(
    remote: RemotePricing,
    pricing: Pricing,
    server_ms: float,
    prompt_tokens: int,
    completion_tokens: int,
    active: float | None = None,
) -> Cost:
    """A remote server: energy = the server's watts x the time it spent on the request;
    local money = that energy x its kWh price + what the endpoint bills per token;
    hardware = the server's hourly price x active hours; the cloud-equivalent is priced
    as for the embedded model.

    The energy assumes the request had the server to itself: when it serves several
    requests at once (parallel slots, other users) this is an upper bound.
    """
    energy_wh = remote.device_watts * max(server_ms, 0.0) / MS_PER_HOUR
    billed = cloud_price(
        prompt_tokens, completion_tokens, remote.input_per_million, remote.output_per_million
    )
    local = energy_wh / 1000.0 * remote.price_per_kwh + billed
    cloud = cloud_price(
        prompt_tokens,
        completion_tokens,
        pricing.cloud_input_per_million,
        pricing.cloud_output_per_million,
    )
    hours = (server_ms if active is None else active) / MS_PER_HOUR
    return Cost(energy_wh, local, cloud, pricing.currency, remote.per_hour * max(hours, 0.0))
