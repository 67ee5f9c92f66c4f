"""Model health: a small circuit breaker fed by failures and by the quota facts providers send.

Kept per provider model (``ModelSpec.health_key``): a provider's limits are per model, and a model
the provider retired must not take its siblings down with it.

The state transitions are pure functions so they can be tested without a clock or a store; a
``HealthStore`` keeps the state (in memory on a laptop, in DynamoDB across Lambda instances).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from chimera.providers.base import FailureKind, ProviderError, QuotaReport

FAILURES_TO_OPEN = 3  # consecutive failures before a provider is rested
OPEN_COOLDOWN_S = 30.0  # how long it rests
DEFAULT_RATE_LIMIT_COOLDOWN_S = 10.0  # a 429 that did not say how long to wait
# A model the provider says it does not serve stays out of rotation this long (every instance sees
# it through the shared store); a fixed catalogue names another id, which starts healthy.
MODEL_GONE_COOLDOWN_S = 6 * 3600.0


PROBE_S = 30.0  # how long one instance's half-open probe holds the others back


@dataclass(frozen=True, slots=True)
class ModelHealth:
    """A circuit per model: closed (ask it), open (rest until ``cooldown_until``), then half-open
    (one instance asks, as a probe; the others wait for its answer).

    ``version`` counts the writes in a shared store, which applies a change only to the version it
    read (two instances lose no update).
    """

    key: str  # ModelSpec.health_key: "<provider>/<provider model id>"
    cooldown_until: float = 0.0  # epoch seconds; 0: closed (nothing happened since the last success)
    consecutive_failures: int = 0
    last_failure: str | None = None  # a FailureKind value, for the page and the logs
    probe_token: str | None = None  # who is probing a half-open circuit...
    probe_until: float = 0.0  # ...and until when the others leave it alone
    version: int = 0

    def state(self, now: float) -> Literal["closed", "open", "half-open"]:
        if not self.cooldown_until:
            return "closed"
        return "open" if now < self.cooldown_until else "half-open"

    def available(self, now: float) -> bool:
        """Closed, or half-open with nobody probing it (a caller may claim the probe)."""
        state = self.state(now)
        return state == "closed" or (state == "half-open" and now >= self.probe_until)

    @property
    def gone(self) -> bool:
        """The provider said it does not serve this model (retired, or never existed)."""
        return self.last_failure == FailureKind.MODEL_GONE.value

    def retry_in_s(self, now: float) -> float:
        return max(0.0, self.cooldown_until - now, self.probe_until - now)


def claim_probe(health: ModelHealth, now: float, token: str) -> ModelHealth:
    """A half-open circuit with no probe in flight is claimed for ``token``; anything else is unchanged."""
    if health.state(now) != "half-open" or now < health.probe_until:
        return health
    return replace(health, probe_token=token, probe_until=now + PROBE_S)


def after_success(health: ModelHealth, quota: QuotaReport | None, now: float) -> ModelHealth:
    # A rest that is still running (a spent budget another turn reported) outlives this success.
    cooldown_until = health.cooldown_until if health.cooldown_until > now else 0.0
    if quota is not None:
        # The provider said the budget is spent: rest until it resets instead of earning a 429.
        if quota.remaining_requests == 0 and quota.requests_reset_s:
            cooldown_until = max(cooldown_until, now + quota.requests_reset_s)
        if quota.remaining_tokens == 0 and quota.tokens_reset_s:
            cooldown_until = max(cooldown_until, now + quota.tokens_reset_s)
    return replace(
        health,
        cooldown_until=cooldown_until,
        consecutive_failures=0,
        last_failure=None,
        probe_token=None,
        probe_until=0.0,
    )


def after_failure(health: ModelHealth, error: ProviderError, now: float) -> ModelHealth:
    failures = health.consecutive_failures + 1
    cooldown_until = health.cooldown_until
    if error.kind == FailureKind.MODEL_GONE:
        cooldown_until = now + MODEL_GONE_COOLDOWN_S
    elif error.kind == FailureKind.RATE_LIMITED:
        cooldown_until = now + (error.retry_after_s or DEFAULT_RATE_LIMIT_COOLDOWN_S)
    elif failures >= FAILURES_TO_OPEN or health.state(now) == "half-open":  # a failed probe opens it again
        cooldown_until = now + OPEN_COOLDOWN_S
    return replace(
        health,
        cooldown_until=cooldown_until,
        consecutive_failures=failures,
        last_failure=error.kind.value,
        probe_token=None,
        probe_until=0.0,
    )


class HealthStore(Protocol):
    async def get(self, key: str) -> ModelHealth:
        """The model's health as of about a second ago (cached on the hot path)."""
        ...

    async def update(self, key: str, change: Callable[[ModelHealth], ModelHealth]) -> ModelHealth:
        """Apply ``change`` to the current health and store it, atomically; return what is stored.

        A shared store re-reads and re-applies on a conflicting write, so no update is lost.
        """
        ...
