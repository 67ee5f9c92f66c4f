"""What a chat turn reads and writes: its context, the person's message, the answer and its cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from chimera.errors import ConversationBusy, ConversationNotFound
from chimera.models import ConversationContext, Principal, StoredMessage, UsageRecord
from chimera.providers.base import Role
from chimera.store.postgres import as_person, as_service, at_once_as_person

# A turn holds its conversation (one turn at a time) for this long after its last progress flush,
# which renews it: a turn whose process died frees the conversation within about this long.
TURN_LEASE_S = 30
# Ends a turn (and marks the conversation updated); a lease another turn has taken since is kept.
_RELEASE = (
    "update conversations set updated_at = now(),"
    " answering_until = case when answering_turn = %s then null else answering_until end"
    " where id = %s"
)
# One statement for every answer this process is generating: append each one's new text, renew
# its conversation's lease, and read back whether someone asked it to stop. Run as the service,
# not as a person: it spans people, and touches only rows this process created under their
# row-level security, by ids it generated.
_FLUSH = """
with progress as (
    select unnest(%(ids)s::text[]) as id, unnest(%(texts)s::text[]) as text
), flushed as (
    update messages m set content = m.content || p.text, flushed_at = now()
    from progress p where m.id = p.id and m.status = 'streaming'
    returning m.id, m.conversation_id, m.stop_requested
), renewed as (
    update conversations c set answering_until = now() + make_interval(secs => %(lease)s)
    from flushed f where c.id = f.conversation_id
)
select id from flushed where stop_requested
"""


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """An assistant message as a reader sees it; a streaming row gone quiet reads as interrupted."""

    id: str
    content: str
    status: str
    metadata: dict[str, Any] | None


def effective_status(stale_after_s: float) -> str:
    """SQL for a message's status as readers see it (``m`` is the messages table)."""
    return (
        "case when m.status = 'streaming' and m.flushed_at < now() - make_interval(secs => "
        f"{float(stale_after_s)!r}) then 'interrupted' else m.status end"
    )


class PostgresChatStore:
    def __init__(self, pool: AsyncConnectionPool, *, stale_after_s: float = 10.0) -> None:
        self._pool = pool
        self._stale_after_s = stale_after_s

    async def claim_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, limit: int
    ) -> ConversationContext:
        """Take the conversation for this turn and read its title and last ``limit`` messages.

        Raises ``ConversationBusy`` while another turn holds it, ``ConversationNotFound`` if it is
        not the person's. One transaction: the lease and the context come from the same moment.
        """
        # One query: an answer whose generator died (read as interrupted) is marked so, as far as
        # it got, and frees the conversation (otherwise only an expired lease does); the
        # conversation is taken; its last messages are read (unused when it could not be taken).
        claimed, recent = await at_once_as_person(
            self._pool,
            principal,
            [
                "with stale as ("
                "  update messages m set status = 'interrupted' where m.conversation_id = %(id)s"
                f"  and m.status = 'streaming' and ({effective_status(self._stale_after_s)}) = 'interrupted'"
                "  returning m.id"
                ") update conversations set answering_turn = %(turn)s,"
                " answering_until = now() + make_interval(secs => %(lease)s)"
                # Reading `stale` first makes its message locks come before this conversation's: the
                # order the progress flush and finish_answer take them in (else: deadlock).
                " where (select count(*) from stale) >= 0 and id = %(id)s"
                " and (answering_until is null or answering_until < now() or exists (select 1 from stale))"
                " returning title",
                "select role, content, id from ("
                "  select role, content, created_at, id from messages"
                "  where conversation_id = %(id)s and status <> 'replaced'"
                "  order by created_at desc, id desc limit %(limit)s"
                ") recent order by created_at, id",
            ],
            {"id": conversation_id, "turn": turn_id, "lease": TURN_LEASE_S, "limit": limit},
        )
        if not claimed:
            async with as_person(self._pool, principal) as conn:
                exists = await conn.execute("select 1 from conversations where id = %s", (conversation_id,))
                if await exists.fetchone() is not None:
                    raise ConversationBusy(conversation_id)
                raise ConversationNotFound(conversation_id)
        messages = [
            StoredMessage(role=cast(Role, role), content=content, id=message_id) for role, content, message_id in recent
        ]
        return ConversationContext(title=claimed[0][0], messages=messages)

    async def release_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, answer_id: str | None = None
    ) -> None:
        """Give the conversation back after a turn with no answer to keep (no model could answer),
        and remove that answer's empty row: a turn without an answer has only its question."""
        async with as_person(self._pool, principal) as conn:
            if answer_id is not None:
                await conn.execute(
                    "delete from messages where id = %s and status = 'streaming' and content = ''", (answer_id,)
                )
            await conn.execute(_RELEASE, (turn_id, conversation_id))

    async def create_conversation(
        self, *, principal: Principal, conversation_id: str, title: str, turn_id: str
    ) -> None:
        """Create a conversation under the id its client chose, taken for this turn. Raises
        ``ConversationNotFound`` if the id is taken (by someone else: theirs is not ours to see)."""
        async with as_person(self._pool, principal) as conn:
            cursor = await conn.execute(
                "insert into conversations (id, user_id, title, answering_turn, answering_until)"
                " values (%s, %s, %s, %s, now() + make_interval(secs => %s)) on conflict (id) do nothing returning id",
                (conversation_id, principal.user_id, title, turn_id, TURN_LEASE_S),
            )
            if await cursor.fetchone() is None:
                raise ConversationNotFound(conversation_id)

    async def begin_turn(
        self,
        *,
        principal: Principal,
        conversation_id: str,
        new_title: str | None,
        turn_id: str,
        question_id: str,
        question: str | None,
        answer_id: str,
        metadata: dict[str, Any],
        replaces: list[str],
    ) -> None:
        """Write what a turn starts with, in one transaction: the conversation if ``new_title``
        (born answering this turn), the person's message (unless ``question`` is None: a
        regenerated answer re-answers the one already saved), the messages it ``replaces`` (kept as
        replaced: a regenerated answer, or an edited question and what followed it), and the answer's row, streaming."""
        statements = []
        if new_title is not None:  # its messages' row-level checks must see it: a statement first
            statements.append(
                "insert into conversations (id, user_id, title, answering_turn, answering_until)"
                " values (%(conversation)s, %(user)s, %(title)s, %(turn)s, now() + make_interval(secs => %(lease)s))"
            )
        # The rest in one statement. The answer is a moment later than the question
        # (clock_timestamp), so the two always sort question first.
        statements.append(
            "with touched as ("
            "  update conversations set updated_at = now() where id = %(conversation)s and %(existing)s"
            "), question as ("
            "  insert into messages (id, conversation_id, role, content)"
            "  select %(question_id)s, %(conversation)s, 'user', %(question)s where %(question)s::text is not null"
            "), replaced as ("
            "  update messages set status = 'replaced'"
            "  where id = any(%(replaces)s::text[]) and conversation_id = %(conversation)s"
            ") insert into messages (id, conversation_id, role, content, metadata, status, flushed_at, created_at)"
            " values (%(answer)s, %(conversation)s, 'assistant', '', %(metadata)s, 'streaming', now(),"
            " clock_timestamp())"
        )
        params = {
            "answer": answer_id,
            "conversation": conversation_id,
            "metadata": Jsonb(metadata),
            "user": principal.user_id,
            "title": new_title,
            "turn": turn_id,
            "lease": TURN_LEASE_S,
            "existing": new_title is None,
            "question_id": question_id,
            "question": question,
            "replaces": replaces,
        }
        await at_once_as_person(self._pool, principal, statements, params)

    async def finish_answer(
        self,
        *,
        principal: Principal,
        conversation_id: str,
        message_id: str,
        content: str,
        status: str,
        metadata: dict[str, Any],
        usage: list[UsageRecord],
        turn_id: str,
    ) -> None:
        """Write the answer as it ended (whole, stopped or failed part-way), what it cost (a row per
        model that spent tokens on it), and end the turn, in one transaction."""
        # One statement. Only a streaming row is written: one a later turn already marked
        # interrupted (this process was frozen or lost for a while) stays as the person last saw it.
        await at_once_as_person(
            self._pool,
            principal,
            [
                "with answered as ("
                "  update messages set content = %(content)s, status = %(status)s, metadata = %(metadata)s,"
                "  flushed_at = now() where id = %(message)s and status = 'streaming' returning id"
                "), released as ("
                "  update conversations set updated_at = now(),"
                "  answering_until = case when answering_turn = %(turn)s then null else answering_until end"
                # Reading `answered` makes its row lock come first: messages, then conversations, the
                # order the progress flush takes them in (unreferenced sub-statements run in no
                # promised order, and the opposite one deadlocks with a flush).
                "  where id = %(conversation)s and (select count(*) from answered) >= 0"
                ") insert into ai_usage (id, user_id, conversation_id, message_id, provider, model,"
                " input_tokens, output_tokens, tokens_used, cost_cents, estimated)"
                " select gen_random_uuid()::text, %(user)s, %(conversation)s, %(message)s, u.provider, u.model,"
                " u.input_tokens, u.output_tokens, u.input_tokens + u.output_tokens, u.cost_cents, u.estimated"
                " from unnest(%(providers)s::text[], %(models)s::text[], %(inputs)s::int[], %(outputs)s::int[],"
                " %(costs)s::numeric[], %(estimated)s::bool[])"
                " as u(provider, model, input_tokens, output_tokens, cost_cents, estimated)"
            ],
            {
                "content": content,
                "status": status,
                "metadata": Jsonb(metadata),
                "message": message_id,
                "turn": turn_id,
                "conversation": conversation_id,
                "user": principal.user_id,
                "providers": [u.provider for u in usage],
                "models": [u.model for u in usage],
                "inputs": [u.input_tokens for u in usage],
                "outputs": [u.output_tokens for u in usage],
                "costs": [u.cost_cents for u in usage],
                "estimated": [u.estimated for u in usage],
            },
        )

    async def flush_progress(self, progress: list[tuple[str, str]]) -> set[str]:
        """Append each (answer id, new text) and renew its turn's lease, in one statement for the
        whole process; return the ids someone asked to stop."""
        ids, texts = [answer for answer, _ in progress], [text for _, text in progress]
        async with as_service(self._pool) as conn:
            cursor = await conn.execute(_FLUSH, {"ids": ids, "texts": texts, "lease": TURN_LEASE_S})
            return {row[0] for row in await cursor.fetchall()}

    async def request_stop(self, *, principal: Principal, conversation_id: str) -> str | None:
        """Ask the conversation's answer being generated to stop, wherever it runs; its id, or None
        when nothing is being generated. Raises ``ConversationNotFound`` if it is not the person's."""
        async with as_person(self._pool, principal) as conn:
            cursor = await conn.execute(
                "update messages m set stop_requested = true where m.conversation_id = %s"
                f" and ({effective_status(self._stale_after_s)}) = 'streaming' returning m.id",
                (conversation_id,),
            )
            row = await cursor.fetchone()
            if row is None:
                await self._must_exist(conn, conversation_id)
            return str(row[0]) if row else None

    async def live_answer(self, *, principal: Principal, conversation_id: str) -> AnswerRow | None:
        """The conversation's answer being generated now, or None. Raises ``ConversationNotFound``."""
        async with as_person(self._pool, principal) as conn:
            cursor = await conn.execute(
                f"select m.id, m.content, {effective_status(self._stale_after_s)}, m.metadata from messages m"
                " where m.conversation_id = %s and m.status = 'streaming' order by m.created_at desc limit 1",
                (conversation_id,),
            )
            row = await cursor.fetchone()
            if row is None:
                await self._must_exist(conn, conversation_id)
                return None
        answer = AnswerRow(id=row[0], content=row[1], status=row[2], metadata=row[3])
        return answer if answer.status == "streaming" else None

    async def answer_since(self, message_id: str, offset: int) -> AnswerRow | None:
        """An answer's text after its first ``offset`` characters, its status, and (once it has
        ended) its facts: one statement, as the service. A resume reads this once a flush for an
        answer whose owner ``live_answer`` already checked as the person (the id comes from there)."""
        async with as_service(self._pool) as conn:
            cursor = await conn.execute(
                f"select m.id, substr(m.content, %s + 1), {effective_status(self._stale_after_s)},"
                " case when m.status = 'streaming' then null else m.metadata end from messages m where m.id = %s",
                (offset, message_id),
            )
            row = await cursor.fetchone()
        return AnswerRow(id=row[0], content=row[1], status=row[2], metadata=row[3]) if row else None

    @staticmethod
    async def _must_exist(conn: Any, conversation_id: str) -> None:
        exists = await conn.execute("select 1 from conversations where id = %s", (conversation_id,))
        if await exists.fetchone() is None:
            raise ConversationNotFound(conversation_id)
