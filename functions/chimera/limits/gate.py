"""One chat against every limit for people: the person's minute, their network's minute, the person's day.

A chat that passes is counted at once, before the turn is prepared, so two chats sent together
cannot both slip under the limit. If the request is then refused for another reason (not the
person's conversation, a turn still answering, the database down), ``Admitted.refund`` takes the
count back: a refused request spends nothing. A limit over its limit spends nothing either: the
counts the other limits took are taken back before the 429.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

from chimera.errors import LimitScope, RateLimited
from chimera.limits.policy import RateLimiter, TokenLimiter


def address_key(address: str) -> str:
    """The key a network is counted under: the address, or for IPv6 its /64 (one subscriber's
    block, whose 2^64 addresses one person can rotate through)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address#{address}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address#{ip.ipv4_mapped}"
        return f"address#{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"address#{ip}"


@dataclass(frozen=True)
class Admitted:
    """The counts one allowed chat took, to give back if the request is refused afterwards."""

    taken: tuple[tuple[RateLimiter, str, float], ...]

    async def refund(self) -> None:
        await asyncio.gather(*(limiter.release(key, at) for limiter, key, at in self.taken))


@dataclass(frozen=True)
class ChatLimits:
    per_person: RateLimiter
    per_address: RateLimiter
    tokens: TokenLimiter

    async def admit(self, *, user_id: str, address: str | None) -> Admitted:
        """Count one chat, or raise ``RateLimited`` for the limit that keeps it out longest.

        ``address`` is None when the client's address is unknown: then only the person's limits apply.
        """
        windows: list[tuple[LimitScope, RateLimiter, str]] = [("person", self.per_person, f"person#{user_id}")]
        if address is not None:
            windows.append(("address", self.per_address, address_key(address)))
        # All at once, not one after another: in AWS each is a round trip to the table.
        tokens_wait, verdicts = await asyncio.gather(
            self.tokens.wait(user_id), asyncio.gather(*(limiter.acquire(key) for _, limiter, key in windows))
        )
        counted = list(zip(windows, verdicts, strict=True))
        admitted = Admitted(tuple((limiter, key, v.at) for (_, limiter, key), v in counted if v.retry_after_s is None))
        refusals = [
            RateLimited(scope=scope, limit=limiter.limit, retry_after_s=v.retry_after_s)
            for (scope, limiter, _), v in counted
            if v.retry_after_s is not None
        ]
        if tokens_wait is not None:
            refusals.append(RateLimited(scope="tokens", limit=self.tokens.limit, retry_after_s=tokens_wait))
        if refusals:
            await admitted.refund()
            raise max(refusals, key=lambda refusal: refusal.retry_after_s)
        return admitted
