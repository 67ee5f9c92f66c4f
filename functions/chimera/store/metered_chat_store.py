"""The chat store that also counts each answer's tokens against its person's day.

The turn saves its answer and usage exactly once, whole or partial (``finish_answer``);
counting there means every turn that used tokens is counted, whoever leaves mid-answer, without
the turn knowing about limits.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from chimera.limits.policy import TokenLimiter
from chimera.models import Principal, UsageRecord
from chimera.store.chat_store import PostgresChatStore


class MeteredChatStore(PostgresChatStore):
    def __init__(self, pool: AsyncConnectionPool, *, tokens: TokenLimiter, stale_after_s: float = 10.0) -> None:
        super().__init__(pool, stale_after_s=stale_after_s)
        self._tokens = tokens

    async def finish_answer(self, **fields: Any) -> None:
        try:
            await super().finish_answer(**fields)
        finally:  # the provider spent the tokens whether or not the row was written
            principal: Principal = fields["principal"]
            usage: list[UsageRecord] = fields["usage"]
            tokens = sum(record.tokens_used for record in usage)
            if tokens > 0:
                await self._tokens.record(principal.user_id, tokens)
