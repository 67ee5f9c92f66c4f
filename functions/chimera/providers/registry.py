"""The models a person can choose, what they are called at their provider, and what they cost.

Prices are US dollars per million tokens from the providers' public price lists (2026-11); the
free-tier limits are the published per-model request and token budgets that the router respects.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ModelChoice = Literal["auto", "groq-llama-70b", "groq-llama-8b", "gemini-flash"]
ProviderName = Literal["groq", "gemini"]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    key: str  # the public choice, e.g. "groq-llama-70b"
    provider: ProviderName
    provider_model: str  # the id the provider's API expects
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    context_tokens: int

    def cost_cents(self, *, input_tokens: int, output_tokens: int) -> Decimal:
        """Exact cost in US cents; kept fractional so many small turns never round to zero."""
        usd = (input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / 1_000_000
        return usd * 100


MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="groq-llama-70b",
            provider="groq",
            provider_model="llama-3.3-70b-versatile",
            input_usd_per_mtok=Decimal("0.59"),
            output_usd_per_mtok=Decimal("0.79"),
            context_tokens=131_072,
        ),
        ModelSpec(
            key="groq-llama-8b",
            provider="groq",
            provider_model="llama-3.1-8b-instant",
            input_usd_per_mtok=Decimal("0.05"),
            output_usd_per_mtok=Decimal("0.08"),
            context_tokens=131_072,
        ),
        ModelSpec(
            key="gemini-flash",
            provider="gemini",
            provider_model="gemini-2.5-flash",
            input_usd_per_mtok=Decimal("0.30"),
            output_usd_per_mtok=Decimal("2.50"),
            context_tokens=1_048_576,
        ),
    )
}

# The order in which providers are tried when the chosen one fails before answering.
PROVIDER_ORDER: tuple[ProviderName, ...] = ("groq", "gemini")

# Each provider's model for a fallback that lands on it.
FALLBACK_MODEL: dict[ProviderName, str] = {"groq": "groq-llama-70b", "gemini": "gemini-flash"}
