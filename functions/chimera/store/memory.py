"""Runtime state for one process (a laptop, a test): model health and rate-limit windows.

In AWS, `chimera.store.dynamodb` shares the same state across Lambda instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from chimera.providers.health import ModelHealth
from chimera.providers.rate_limit import window_of


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
    """For one process (a laptop, a test)."""

    def __init__(self, *, per_minute: int) -> None:
        self.per_minute = per_minute
        self._window = -1
        self._counts: dict[str, int] = {}

    async def acquire(self, user_id: str) -> float | None:
        window, left = window_of(time.time())
        if window != self._window:  # a new minute: forget the last one
            self._window, self._counts = window, {}
        self._counts[user_id] = self._counts.get(user_id, 0) + 1
        return None if self._counts[user_id] <= self.per_minute else left
