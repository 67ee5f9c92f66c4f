"""What a chat turn reads and writes: its context, the person's message, the answer and its cost."""

from __future__ import annotations

from typing import Any, cast

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from chimera.errors import ConversationNotFound
from chimera.models import ConversationContext, Principal, StoredMessage, UsageRecord
from chimera.providers.base import Role
from chimera.store.postgres import as_person


class PostgresChatStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def load_context(self, *, principal: Principal, conversation_id: str, limit: int) -> ConversationContext:
        """The title and the last ``limit`` messages, oldest first. Raises ``ConversationNotFound``."""
        async with as_person(self._pool, principal) as conn:
            found = await conn.execute("select title from conversations where id = %s", (conversation_id,))
            row = await found.fetchone()
            if row is None:
                raise ConversationNotFound(conversation_id)
            cursor = await conn.execute(
                "select role, content from ("
                "  select role, content, created_at, id from messages where conversation_id = %s"
                "  order by created_at desc, id desc limit %s"
                ") recent order by created_at, id",
                (conversation_id, limit),
            )
            messages = [
                StoredMessage(role=cast(Role, role), content=content) for role, content in await cursor.fetchall()
            ]
        return ConversationContext(title=row[0], messages=messages)

    async def save_user_message(
        self,
        *,
        principal: Principal,
        conversation_id: str,
        message_id: str,
        content: str,
        new_title: str | None,
    ) -> None:
        """Save the person's message; with ``new_title``, create the conversation first."""
        async with as_person(self._pool, principal) as conn:
            if new_title is not None:
                await conn.execute(
                    "insert into conversations (id, user_id, title) values (%s, %s, %s)",
                    (conversation_id, principal.user_id, new_title),
                )
            await conn.execute(
                "insert into messages (id, conversation_id, role, content) values (%s, %s, 'user', %s)",
                (message_id, conversation_id, content),
            )
            if new_title is None:  # a new conversation's updated_at is already now()
                await conn.execute("update conversations set updated_at = now() where id = %s", (conversation_id,))

    async def save_assistant_message(
        self,
        *,
        principal: Principal,
        conversation_id: str,
        message_id: str,
        content: str,
        metadata: dict[str, Any],
        usage: UsageRecord | None,
    ) -> None:
        """Save the answer (whole or partial) and what it cost, in one transaction."""
        async with as_person(self._pool, principal) as conn:
            await conn.execute(
                "insert into messages (id, conversation_id, role, content, metadata)"
                " values (%s, %s, 'assistant', %s, %s)",
                (message_id, conversation_id, content, Jsonb(metadata)),
            )
            await conn.execute("update conversations set updated_at = now() where id = %s", (conversation_id,))
            if usage is not None:
                await conn.execute(
                    "insert into ai_usage (id, user_id, conversation_id, message_id, provider, model,"
                    " input_tokens, output_tokens, tokens_used, cost_cents, estimated)"
                    " values (gen_random_uuid()::text, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        principal.user_id,
                        conversation_id,
                        message_id,
                        usage.provider,
                        usage.model,
                        usage.input_tokens,
                        usage.output_tokens,
                        usage.tokens_used,
                        usage.cost_cents,
                        usage.estimated,
                    ),
                )
