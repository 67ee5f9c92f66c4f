"""Listing, reading, renaming and deleting a person's conversations.

Row-level security already limits every query to the person; the explicit ``user_id`` filters
are there so the planner walks the (user_id, updated_at, id) index instead of filtering.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from chimera.errors import ConversationNotFound, InvalidCursor
from chimera.models import (
    CONVERSATION_ID_PATTERN,
    ConversationDetail,
    ConversationPage,
    ConversationSummary,
    MessagePublic,
    Principal,
)
from chimera.store.chat_store import effective_status
from chimera.store.postgres import as_person

PREVIEW_CHARS = 120

_SUMMARY = f"""
    select c.id, c.title, c.created_at, c.updated_at,
           coalesce(left(last.content, {PREVIEW_CHARS}), '') as preview,
           (select count(*) from messages m where m.conversation_id = c.id) as message_count
    from conversations c
    left join lateral (
        select content from messages m where m.conversation_id = c.id
        order by m.created_at desc, m.id desc limit 1
    ) last on true
"""


def encode_cursor(updated_at: datetime, conversation_id: str) -> str:
    raw = json.dumps([updated_at.isoformat(), conversation_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_CONVERSATION_ID = re.compile(CONVERSATION_ID_PATTERN)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (updated_at, id) a cursor we gave out points after. Anything else is ``InvalidCursor``.

    Everything is checked before it can reach Postgres: a crafted cursor may carry a NUL or a lone
    surrogate, which would make the query itself fail.
    """
    refused = InvalidCursor("not a cursor this API gave out")  # the person's sentence: chimera.words
    if not _BASE64URL.fullmatch(cursor):
        raise refused
    try:
        updated_at, conversation_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = datetime.fromisoformat(updated_at)
    except (ValueError, TypeError) as exc:
        raise refused from exc
    if not isinstance(conversation_id, str) or not _CONVERSATION_ID.fullmatch(conversation_id) or after.tzinfo is None:
        raise refused
    return after, conversation_id


class PostgresHistoryStore:
    def __init__(self, pool: AsyncConnectionPool, *, stale_after_s: float = 10.0) -> None:
        self._pool = pool
        self._stale_after_s = stale_after_s

    async def list_conversations(self, *, principal: Principal, limit: int, cursor: str | None) -> ConversationPage:
        after = decode_cursor(cursor) if cursor else None
        query = _SUMMARY + " where c.user_id = %(user)s"
        if after is not None:
            query += " and (c.updated_at, c.id) < (%(after_ts)s, %(after_id)s)"
        query += " order by c.updated_at desc, c.id desc limit %(limit)s"
        params = {"user": principal.user_id, "limit": limit + 1}
        if after is not None:
            params |= {"after_ts": after[0], "after_id": after[1]}
        async with as_person(self._pool, principal) as conn:
            cur = conn.cursor(row_factory=dict_row)
            rows = await (await cur.execute(query, params)).fetchall()
        items = [ConversationSummary.model_validate(row) for row in rows[:limit]]
        more = len(rows) > limit
        return ConversationPage(
            items=items, next_cursor=encode_cursor(items[-1].updated_at, items[-1].id) if more else None
        )

    async def get_conversation(self, *, principal: Principal, conversation_id: str) -> ConversationDetail:
        async with as_person(self._pool, principal) as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "select id, title, created_at, updated_at from conversations where id = %s", (conversation_id,)
            )
            conversation = await cur.fetchone()
            if conversation is None:
                raise ConversationNotFound(conversation_id)
            await cur.execute(
                f"select m.id, m.role, m.content, m.metadata, m.created_at,"
                f" {effective_status(self._stale_after_s)} as status from messages m"
                " where m.conversation_id = %s order by m.created_at, m.id",
                (conversation_id,),
            )
            messages = [MessagePublic.model_validate(row) for row in await cur.fetchall()]
        return ConversationDetail.model_validate(conversation | {"messages": messages})

    async def rename_conversation(
        self, *, principal: Principal, conversation_id: str, title: str
    ) -> ConversationSummary:
        async with as_person(self._pool, principal) as conn:
            renamed = await conn.execute("update conversations set title = %s where id = %s", (title, conversation_id))
            if renamed.rowcount == 0:
                raise ConversationNotFound(conversation_id)
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(_SUMMARY + " where c.id = %s", (conversation_id,))
            row = await cur.fetchone()
        return ConversationSummary.model_validate(row)

    async def delete_conversation(self, *, principal: Principal, conversation_id: str) -> None:
        async with as_person(self._pool, principal) as conn:
            deleted = await conn.execute("delete from conversations where id = %s", (conversation_id,))
            if deleted.rowcount == 0:
                raise ConversationNotFound(conversation_id)
