"""Free-tier budgets per model: what is left this minute and today, before a provider says 429.

On a free tier, running out is the normal state. Each model's published limits (``FreeTier`` in
the catalogue: requests and tokens a minute and a day) are counted against what every instance
spent (``BudgetCounts``, kept in a shared store), and the provider's own word is used when it is
fresher: Groq's ``x-ratelimit-remaining-requests`` (per day) and ``-remaining-tokens`` (per
minute) with their resets. A model whose budget cannot take a request is not asked; the router
treats it as resting until the budget comes back.

Everything here is arithmetic on values, no I/O, so it is tested without a clock or a store.
Minutes and days are fixed windows (epoch minute, UTC day): budgets are advice that keeps us
under the provider's own limits most of the time, and the provider's 429 still has the last word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from chimera.limits.policy import seconds_to_midnight, utc_day
from chimera.providers.base import QuotaReport
from chimera.providers.catalogue import FreeTier

MINUTE_S = 60.0


def minute_of(now: float) -> int:
    return int(now // MINUTE_S)


@dataclass(frozen=True, slots=True)
class BudgetCounts:
    """What was spent on one model in the current minute and day, by every instance, and the last
    quota facts its provider sent (``*_left`` valid until ``*_left_until``, epoch seconds)."""

    minute: int = 0  # epoch minute the minute counts belong to
    minute_requests: int = 0
    minute_tokens: int = 0
    day: str = ""  # UTC day the day counts belong to
    day_requests: int = 0
    day_tokens: int = 0
    requests_left: int | None = None  # Groq: requests left today
    requests_left_until: float = 0.0
    tokens_left: int | None = None  # Groq: tokens left this minute
    tokens_left_until: float = 0.0

    def current(self, now: float) -> BudgetCounts:
        """These counts with the windows that have ended emptied."""
        counts = self
        if counts.minute != minute_of(now):
            counts = replace(counts, minute=minute_of(now), minute_requests=0, minute_tokens=0)
        if counts.day != utc_day(now):
            counts = replace(counts, day=utc_day(now), day_requests=0, day_tokens=0)
        return counts

    def plus(self, *, requests: int, tokens: int, now: float) -> BudgetCounts:
        counts = self.current(now)
        return replace(
            counts,
            minute_requests=counts.minute_requests + requests,
            minute_tokens=counts.minute_tokens + tokens,
            day_requests=counts.day_requests + requests,
            day_tokens=counts.day_tokens + tokens,
        )

    def reported(self, report: QuotaReport, now: float) -> BudgetCounts:
        """The provider's own count, which knows about traffic we never saw (other keys, other apps)."""
        counts = self
        if report.remaining_requests is not None:
            counts = replace(
                counts,
                requests_left=report.remaining_requests,
                requests_left_until=now + (report.requests_reset_s or MINUTE_S),
            )
        if report.remaining_tokens is not None:
            counts = replace(
                counts,
                tokens_left=report.remaining_tokens,
                tokens_left_until=now + (report.tokens_reset_s or MINUTE_S),
            )
        return counts


@dataclass(frozen=True, slots=True)
class Budget:
    """What one model can still take now: None where the free tier sets no limit."""

    requests_minute: int | None
    tokens_minute: int | None
    requests_day: int | None
    tokens_day: int | None
    headroom: float  # the smallest share left of any limit, 0..1 (1: no limits)
    minute_refill_s: float  # until the minute's limits come back
    day_refill_s: float  # until the day's limits come back

    def fits(self, tokens: int) -> bool:
        return not self._short_today(tokens) and not self._short_this_minute(tokens)

    def wait_s(self, tokens: int) -> float:
        """How long until a request of ``tokens`` fits (0 if it fits now)."""
        if self._short_today(tokens):
            return self.day_refill_s
        return self.minute_refill_s if self._short_this_minute(tokens) else 0.0

    def _short_today(self, tokens: int) -> bool:
        return _short(self.requests_day, 1) or _short(self.tokens_day, tokens)

    def _short_this_minute(self, tokens: int) -> bool:
        return _short(self.requests_minute, 1) or _short(self.tokens_minute, tokens)


def _short(left: int | None, needed: int) -> bool:
    return left is not None and left < needed


def _left(limit: int | None, used: int, reported: int | None, fresh: bool) -> int | None:
    if limit is None:
        return reported if fresh else None
    left = max(0, limit - used)
    return min(left, reported) if fresh and reported is not None else left


def budget(tier: FreeTier, counts: BudgetCounts, now: float) -> Budget:
    counts = counts.current(now)
    requests_fresh = counts.requests_left is not None and now < counts.requests_left_until
    tokens_fresh = counts.tokens_left is not None and now < counts.tokens_left_until
    requests_minute = _left(tier.rpm, counts.minute_requests, None, False)
    tokens_minute = _left(tier.tpm, counts.minute_tokens, counts.tokens_left, tokens_fresh)
    requests_day = _left(tier.rpd, counts.day_requests, counts.requests_left, requests_fresh)
    tokens_day = _left(tier.tpd, counts.day_tokens, None, False)
    shares = [
        left / limit
        for left, limit in (
            (requests_minute, tier.rpm),
            (tokens_minute, tier.tpm),
            (requests_day, tier.rpd),
            (tokens_day, tier.tpd),
        )
        if left is not None and limit
    ]
    to_next_minute = (counts.minute + 1) * MINUTE_S - now
    return Budget(
        requests_minute=requests_minute,
        tokens_minute=tokens_minute,
        requests_day=requests_day,
        tokens_day=tokens_day,
        headroom=max(0.0, min(shares, default=1.0)),
        # The provider's own reset when it gave one (Groq's tokens a minute, requests a day).
        minute_refill_s=counts.tokens_left_until - now if tokens_fresh else to_next_minute,
        day_refill_s=counts.requests_left_until - now if requests_fresh else seconds_to_midnight(now),
    )


class BudgetStore(Protocol):
    """Spent budgets shared by every instance (memory on a laptop, DynamoDB across Lambdas)."""

    async def read(self, keys: Sequence[str]) -> dict[str, BudgetCounts]:
        """The counts of ``keys`` (``ModelSpec.health_key``) as of about a second ago; never waits
        on a shared store once it has answered once (a stale read is refreshed in the background)."""
        ...

    async def spend(self, key: str, *, requests: int, tokens: int, report: QuotaReport | None) -> None:
        """Add what one attempt spent, and the provider's latest quota facts, without losing a
        concurrent spend by another instance."""
        ...
