"""The chat store that also counts each answer's tokens against its person's day.

The turn saves its answer and usage exactly once, whole or partial (``save_assistant_message``);
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
    def __init__(self, pool: AsyncConnectionPool, *, tokens: TokenLimiter) -> None:
        super().__init__(pool)
        self._tokens = tokens

    async def save_assistant_message(self, **fields: Any) -> None:
        try:
            await super().save_assistant_message(**fields)
        finally:  # the provider spent the tokens whether or not the row was written
            principal: Principal = fields["principal"]
            usage: list[UsageRecord] = fields["usage"]
            tokens = sum(record.tokens_used for record in usage)
            if tokens > 0:
                await self._tokens.record(principal.user_id, tokens)
