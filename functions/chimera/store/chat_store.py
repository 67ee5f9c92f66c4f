"""What a chat turn reads and writes: its context, the person's message, the answer and its cost."""

from __future__ import annotations

from typing import Any, cast

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from chimera.errors import ConversationBusy, ConversationNotFound
from chimera.models import ConversationContext, Principal, StoredMessage, UsageRecord
from chimera.providers.base import Role
from chimera.store.postgres import as_person

# Longer than the longest turn (the chat function's 120 s timeout, and a save): a turn whose process
# died holds its conversation no longer than this.
TURN_LEASE_S = 180
# Ends a turn (and marks the conversation updated); a lease another turn has taken since is kept.
_RELEASE = (
    "update conversations set updated_at = now(),"
    " answering_until = case when answering_turn = %s then null else answering_until end"
    " where id = %s"
)


class PostgresChatStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def claim_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, limit: int
    ) -> ConversationContext:
        """Take the conversation for this turn and read its title and last ``limit`` messages.

        Raises ``ConversationBusy`` while another turn holds it, ``ConversationNotFound`` if it is
        not the person's. One transaction: the lease and the context come from the same moment.
        """
        async with as_person(self._pool, principal) as conn:
            claimed = await conn.execute(
                "update conversations set answering_turn = %s,"
                " answering_until = now() + make_interval(secs => %s)"
                " where id = %s and (answering_until is null or answering_until < now()) returning title",
                (turn_id, TURN_LEASE_S, conversation_id),
            )
            row = await claimed.fetchone()
            if row is None:
                exists = await conn.execute("select 1 from conversations where id = %s", (conversation_id,))
                if await exists.fetchone() is not None:
                    raise ConversationBusy(conversation_id)
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

    async def release_turn(self, *, principal: Principal, conversation_id: str, turn_id: str) -> None:
        """Give the conversation back (a turn that ends without an answer to save)."""
        async with as_person(self._pool, principal) as conn:
            await conn.execute(_RELEASE, (turn_id, conversation_id))

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
            if new_title is not None:  # a new conversation is born answering its first turn
                await conn.execute(
                    "insert into conversations (id, user_id, title, answering_turn, answering_until)"
                    " values (%s, %s, %s, %s, now() + make_interval(secs => %s))",
                    (conversation_id, principal.user_id, new_title, message_id, TURN_LEASE_S),
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
        usage: list[UsageRecord],
        turn_id: str,
    ) -> None:
        """Save the answer (whole or partial), what it cost (a row per model that spent tokens on it),
        and end the turn, in one transaction."""
        async with as_person(self._pool, principal) as conn:
            await conn.execute(
                "insert into messages (id, conversation_id, role, content, metadata)"
                " values (%s, %s, 'assistant', %s, %s)",
                (message_id, conversation_id, content, Jsonb(metadata)),
            )
            await conn.execute(_RELEASE, (turn_id, conversation_id))
            if usage:
                async with conn.cursor() as cursor:
                    await cursor.executemany(
                        "insert into ai_usage (id, user_id, conversation_id, message_id, provider, model,"
                        " input_tokens, output_tokens, tokens_used, cost_cents, estimated)"
                        " values (gen_random_uuid()::text, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        [
                            (
                                principal.user_id,
                                conversation_id,
                                message_id,
                                record.provider,
                                record.model,
                                record.input_tokens,
                                record.output_tokens,
                                record.tokens_used,
                                record.cost_cents,
                                record.estimated,
                            )
                            for record in usage
                        ],
                    )
