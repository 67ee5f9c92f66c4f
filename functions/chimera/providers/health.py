"""Provider health: a small circuit breaker fed by failures and by the quota facts providers send.

The state transitions are pure functions so they can be tested without a clock or a store; a
``HealthStore`` keeps the state (in memory on a laptop, in DynamoDB across Lambda instances).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from chimera.providers.base import FailureKind, ProviderError, QuotaReport

FAILURES_TO_OPEN = 3  # consecutive failures before a provider is rested
OPEN_COOLDOWN_S = 30.0  # how long it rests
DEFAULT_RATE_LIMIT_COOLDOWN_S = 10.0  # a 429 that did not say how long to wait


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    provider: str
    cooldown_until: float = 0.0  # epoch seconds; 0 means available
    consecutive_failures: int = 0
    last_failure: str | None = None  # a FailureKind value, for the page and the logs

    def available(self, now: float) -> bool:
        return now >= self.cooldown_until

    def retry_in_s(self, now: float) -> float:
        return max(0.0, self.cooldown_until - now)


def after_success(health: ProviderHealth, quota: QuotaReport | None, now: float) -> ProviderHealth:
    # A rest that is still running (a spent budget another turn reported) outlives this success.
    cooldown_until = health.cooldown_until if health.cooldown_until > now else 0.0
    if quota is not None:
        # The provider said the budget is spent: rest until it resets instead of earning a 429.
        if quota.remaining_requests == 0 and quota.requests_reset_s:
            cooldown_until = max(cooldown_until, now + quota.requests_reset_s)
        if quota.remaining_tokens == 0 and quota.tokens_reset_s:
            cooldown_until = max(cooldown_until, now + quota.tokens_reset_s)
    return replace(health, cooldown_until=cooldown_until, consecutive_failures=0, last_failure=None)


def after_failure(health: ProviderHealth, error: ProviderError, now: float) -> ProviderHealth:
    failures = health.consecutive_failures + 1
    cooldown_until = health.cooldown_until
    if error.kind == FailureKind.RATE_LIMITED:
        cooldown_until = now + (error.retry_after_s or DEFAULT_RATE_LIMIT_COOLDOWN_S)
    elif failures >= FAILURES_TO_OPEN:
        cooldown_until = now + OPEN_COOLDOWN_S
    return replace(health, cooldown_until=cooldown_until, consecutive_failures=failures, last_failure=error.kind.value)


class HealthStore(Protocol):
    async def get(self, provider: str) -> ProviderHealth: ...

    async def put(self, health: ProviderHealth) -> None: ...
