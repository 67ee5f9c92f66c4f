"""The arithmetic of the limits, and the shape every limiter has, with no I/O.

Chats a minute are a sliding-window log: each key keeps the times of the chats it was allowed in
the last minute, and a chat is allowed while fewer than the limit remain. A fixed one-minute
window lets 2N through across a boundary (N at 0:59, N more at 1:00); a token bucket of N
refilling at N a minute lets N at once and then one every 60/N s, so up to 2N-1 within some
minute. The log holds "at most N in any 60 s" exactly, which is what the refusal tells a person,
and the wait it gives is exact: until the oldest chat that counts leaves the window. It costs N
numbers a key (20 a person, 60 a network by default), which one DynamoDB item holds easily.

Tokens are counted per person and UTC day; a chat is refused once the day's count has reached
the limit (the size of an answer is known only after it, so the last one may go over).

Every limiter takes a clock (epoch seconds), so tests move time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

WINDOW_S = 60.0
DAY_S = 86_400

Clock = Callable[[], float]


@dataclass(frozen=True)
class Window:
    """A key's chats in the last minute after one more was asked for."""

    hits: tuple[float, ...]  # oldest first; with the new chat's time if it was allowed
    retry_after_s: float | None  # None: allowed


def admit(hits: Iterable[float], *, now: float, limit: int, window_s: float = WINDOW_S) -> Window:
    """Allow one more chat at ``now`` if fewer than ``limit`` of ``hits`` are in the last ``window_s``."""
    recent = sorted(h for h in hits if h > now - window_s)  # a time ahead of ours (another clock) counts
    if len(recent) < limit:
        return Window(hits=tuple(sorted((*recent, now))), retry_after_s=None)
    # Allowed again once only limit - 1 remain, when the (len - limit + 1)th oldest leaves the window.
    return Window(hits=tuple(recent), retry_after_s=recent[len(recent) - limit] + window_s - now)


def without(hits: Iterable[float], at: float) -> tuple[float, ...]:
    """``hits`` with one chat counted at ``at`` taken back (two at the same instant are alike)."""
    kept = list(hits)
    if at in kept:
        kept.remove(at)
    return tuple(kept)


def utc_day(now: float) -> str:
    return _day_name(int(now // DAY_S))  # asked several times a turn: named once a day


@lru_cache(maxsize=4)
def _day_name(day: int) -> str:
    return datetime.fromtimestamp(day * DAY_S, UTC).strftime("%Y-%m-%d")


def seconds_to_midnight(now: float) -> float:
    """Until the next UTC day (epoch time has no leap seconds: every day is 86,400 s)."""
    return DAY_S - now % DAY_S


@dataclass(frozen=True)
class Verdict:
    at: float  # when the chat was counted: what ``release`` takes back
    retry_after_s: float | None  # None: allowed


class RateLimiter(Protocol):
    """At most ``limit`` chats per key in any minute, for every instance that shares the store."""

    limit: int

    async def acquire(self, key: str) -> Verdict:
        """Count one chat for ``key`` if the limit allows it (a refused chat is not counted)."""
        ...

    async def release(self, key: str, at: float) -> None:
        """Take back the chat counted at ``at`` (the request was refused for another reason)."""
        ...


class TokenLimiter(Protocol):
    """At most ``limit`` tokens per person and UTC day."""

    limit: int

    async def wait(self, user_id: str) -> float | None:
        """None while the person's tokens today are under the limit, else the seconds to midnight UTC."""
        ...

    async def record(self, user_id: str, tokens: int) -> None:
        """Add a finished turn's input and output tokens to the person's day."""
        ...
