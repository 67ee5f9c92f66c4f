"""How many chats one person may start per minute, so nobody spends everyone's free-tier quota.

Fixed one-minute windows: simple to share across Lambda instances with one atomic DynamoDB
counter per person and minute, and good enough for a limit measured in messages per minute.
"""

from __future__ import annotations

from typing import Protocol

WINDOW_S = 60


class RateLimiter(Protocol):
    async def acquire(self, user_id: str) -> float | None:
        """Count one chat; return None if allowed, else the seconds until the next window."""
        ...


def window_of(now: float) -> tuple[int, float]:
    """The window's number and the seconds left in it."""
    window = int(now // WINDOW_S)
    return window, (window + 1) * WINDOW_S - now
