"""Runtime state for one process (a laptop, a test): model health and the limits for people.

In AWS, `chimera.store.dynamodb` shares the same state across Lambda instances.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from chimera.limits.policy import WINDOW_S, Clock, Verdict, seconds_to_midnight, utc_day
from chimera.providers.base import QuotaReport
from chimera.providers.budget import BudgetCounts
from chimera.providers.health import ModelHealth

FORGET_AFTER_KEYS = 10_000  # keys a long-lived process holds before it drops the quiet ones


class MemoryHealthStore:
    def __init__(self) -> None:
        self._state: dict[str, ModelHealth] = {}

    async def get(self, key: str) -> ModelHealth:
        return self._state.get(key) or ModelHealth(key=key)

    async def update(self, key: str, change: Callable[[ModelHealth], ModelHealth]) -> ModelHealth:
        # One event loop, no await between the read and the write: atomic.
        current = await self.get(key)
        changed = change(current)
        if changed != current:
            self._state[key] = replace(changed, version=current.version + 1)
        return self._state.get(key, current)

    def clear(self) -> None:
        self._state.clear()


class MemoryRateLimiter:
    """Chats a minute per key, for one process (a laptop, a test); one event loop and no await
    between a read and its write, so every change is atomic."""

    def __init__(self, *, limit: int, clock: Clock = time.time) -> None:
        self.limit = limit
        self._clock = clock
        # Each key's chats in the last minute, oldest first. Kept sorted and trimmed in place, as
        # policy.admit decides (the same verdicts): rebuilding the whole log on every chat costs
        # as many steps as the limit allows chats, which a busy address with a high limit feels.
        # A list, not a deque: a deque's first block is half a kilobyte for every person's key.
        self._hits: dict[str, list[float]] = {}

    async def acquire(self, key: str) -> Verdict:
        now = self._clock()
        hits = self._hits.setdefault(key, [])
        expired = bisect.bisect_right(hits, now - WINDOW_S)
        if expired:
            del hits[:expired]
        if len(hits) >= self.limit:
            # Allowed again once only limit - 1 remain, when the (len - limit + 1)th oldest leaves.
            return Verdict(at=now, retry_after_s=hits[len(hits) - self.limit] + WINDOW_S - now)
        if not hits or hits[-1] <= now:
            hits.append(now)
        else:  # a clock that stepped back
            bisect.insort(hits, now)
        if len(self._hits) > FORGET_AFTER_KEYS:
            self._hits = {k: h for k, h in self._hits.items() if h and h[-1] > now - WINDOW_S}
        return Verdict(at=now, retry_after_s=None)

    async def release(self, key: str, at: float) -> None:
        hits = self._hits.get(key)
        if hits is not None and at in hits:
            hits.remove(at)


class MemoryTokenLimiter:
    """Tokens per person and UTC day, for one process."""

    def __init__(self, *, limit: int, clock: Clock = time.time) -> None:
        self.limit = limit
        self._clock = clock
        self._day = ""
        self._used: dict[str, int] = {}

    async def wait(self, user_id: str) -> float | None:
        now = self._clock()
        used = self._used.get(user_id, 0) if utc_day(now) == self._day else 0
        return seconds_to_midnight(now) if used >= self.limit else None

    async def record(self, user_id: str, tokens: int) -> None:
        today = utc_day(self._clock())
        if today != self._day:  # a new day: forget the last one
            self._day, self._used = today, {}
        self._used[user_id] = self._used.get(user_id, 0) + tokens


class MemoryBudgetStore:
    """Free-tier budgets spent by this process; one event loop, so every change is atomic."""

    def __init__(self, *, clock: Clock = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, BudgetCounts] = {}

    async def read(self, keys: Sequence[str]) -> dict[str, BudgetCounts]:
        return {key: self._counts.get(key) or BudgetCounts() for key in keys}

    async def spend(self, key: str, *, requests: int, tokens: int, report: QuotaReport | None) -> None:
        now = self._clock()
        counts = (self._counts.get(key) or BudgetCounts()).plus(requests=requests, tokens=tokens, now=now)
        self._counts[key] = counts.reported(report, now) if report is not None else counts

    def clear(self) -> None:
        self._counts.clear()
