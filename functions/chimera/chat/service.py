"""One chat turn, read top-down: prepare it (context, title, prompt), start its answer as a task of
its own (``Generation``), stream that answer to whoever follows it, stop it, resume it.

The first token never waits for the database: the turn's rows are written by a task that runs
alongside the model call; the answer's text is flushed about once a second (``progress``) and
recorded when it ends, whole, stopped or failed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol

from chimera import observability, words
from chimera.chat import sse
from chimera.chat.answer import Answer
from chimera.chat.background import BackgroundWrites
from chimera.chat.generation import Ended, Generation, ModelFacts
from chimera.chat.progress import ProgressFlusher
from chimera.errors import ConversationNotFound, NothingToRegenerate
from chimera.models import AnyChatRequest, ConversationContext, Principal, StoredMessage, UsageRecord
from chimera.providers.base import PromptMessage
from chimera.providers.router import Router
from chimera.settings import ChatSettings
from chimera.store.chat_store import AnswerRow

logger = logging.getLogger(__name__)

TEXT_PART = "t0"  # the answer is one text part, whichever models wrote it
SYSTEM_PROMPT = "You are Chimera, a helpful assistant. Answer clearly and concisely."
TITLE_CHARS = 60


class ChatStore(Protocol):
    async def claim_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, limit: int
    ) -> ConversationContext: ...

    async def release_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, answer_id: str | None = None
    ) -> None: ...

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
    ) -> None: ...

    async def create_conversation(
        self, *, principal: Principal, conversation_id: str, title: str, turn_id: str
    ) -> None: ...

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
    ) -> None: ...

    async def flush_progress(self, progress: list[tuple[str, str]]) -> set[str]: ...

    async def request_stop(self, *, principal: Principal, conversation_id: str) -> str | None: ...

    async def live_answer(self, *, principal: Principal, conversation_id: str) -> AnswerRow | None: ...

    async def answer(self, *, principal: Principal, message_id: str) -> AnswerRow | None: ...


def title_from(message: str) -> str:
    line = " ".join(message.split())
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut + "…"


@dataclass
class Turn:
    principal: Principal
    request: AnyChatRequest
    conversation_id: str
    title: str
    create_conversation: bool  # begin_turn inserts it (a new conversation with our id)
    prompt: list[PromptMessage]
    question: str | None  # None: a regenerated answer re-answers a question already saved
    question_id: str  # the person's message this answers
    turn_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # holds the conversation
    answer_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    replaces: list[str] = field(default_factory=list)  # answers a regenerated one replaces


class ChatService:
    def __init__(
        self, *, store: ChatStore, router: Router, settings: ChatSettings, background: BackgroundWrites
    ) -> None:
        self._store = store
        self._router = router
        self._settings = settings
        self._background = background
        self._flusher = ProgressFlusher(store, interval_s=settings.chat_flush_interval_s)
        self._live: dict[str, Generation] = {}  # answers being generated here, by conversation

    async def prepare(self, *, principal: Principal, request: AnyChatRequest) -> Turn:
        """Everything that must be known before the stream starts, and the conversation taken for it.

        Raises ``ConversationNotFound``, ``ConversationBusy`` while another turn is answering, or
        ``NothingToRegenerate``.
        """
        turn_id = str(uuid.uuid4())
        title = title_from(request.message or "")
        history: list[StoredMessage] = []
        create = request.conversation_id is None
        conversation_id = request.conversation_id or str(uuid.uuid4())
        if request.conversation_id is not None:
            try:
                context = await self._store.claim_turn(
                    principal=principal,
                    conversation_id=conversation_id,
                    turn_id=turn_id,
                    limit=self._settings.history_turns,
                )
                history, title = context.messages, context.title
            except ConversationNotFound:
                if not request.names_its_conversation or request.regenerate:
                    raise
                # A client-chosen id (the AI SDK's chat id) that is new: created now, so an id
                # someone else holds is refused (404) before the stream starts.
                await self._store.create_conversation(
                    principal=principal, conversation_id=conversation_id, title=title, turn_id=turn_id
                )
        question, question_id, replaces = request.message, str(uuid.uuid4()), []
        if request.regenerate:
            asked = [i for i, m in enumerate(history) if m.role == "user"]
            if not asked:
                await self._store.release_turn(principal=principal, conversation_id=conversation_id, turn_id=turn_id)
                raise NothingToRegenerate(conversation_id)
            last = asked[-1]
            replaces = [m.id for m in history[last + 1 :] if m.role == "assistant"]
            question, question_id = None, history[last].id
            prompt_question, history = history[last].content, history[:last]
        else:
            assert question is not None  # the request's validator: a question unless regenerating
            prompt_question = question
        prompt = [PromptMessage("system", SYSTEM_PROMPT)]
        prompt += [PromptMessage(m.role, m.content) for m in history if m.content]
        prompt.append(PromptMessage("user", prompt_question))
        return Turn(
            principal=principal,
            request=request,
            conversation_id=conversation_id,
            title=title,
            create_conversation=create,
            prompt=prompt,
            question=question,
            question_id=question_id,
            turn_id=turn_id,
            replaces=replaces,
        )

    def start(self, turn: Turn) -> Generation:
        """Start generating the turn's answer as a task of its own, and return it to follow."""
        answer = Answer(
            message_id=turn.answer_id,
            reply_to=turn.question_id,
            simulated=self._settings.chimera_simulated_providers,
            prompt=turn.prompt,
        )
        # The rows are written alongside the model call: the first token never waits for them.
        begun = self._background.spawn(
            self._store.begin_turn(
                principal=turn.principal,
                conversation_id=turn.conversation_id,
                new_title=turn.title if turn.create_conversation else None,
                turn_id=turn.turn_id,
                question_id=turn.question_id,
                question=turn.question,
                answer_id=turn.answer_id,
                metadata=answer.facts(),
                replaces=turn.replaces,
            ),
            name="begin-turn",
        )
        generation = Generation(
            answer=answer,
            conversation_id=turn.conversation_id,
            title=turn.title,
            events=self._router.stream(choice=turn.request.model, messages=turn.prompt),
            begun=begun,
            record=lambda answer: self._record(turn, answer),
            release=lambda: self._release(turn),
        )
        self._live[turn.conversation_id] = generation
        self._flusher.track(generation, begun)
        self._background.spawn(self._generate(generation), name="generate-answer")
        return generation

    async def _generate(self, generation: Generation) -> None:
        try:
            await generation.run()
        finally:
            self._flusher.untrack(generation)
            if self._live.get(generation.conversation_id) is generation:
                del self._live[generation.conversation_id]

    async def stream(self, generation: Generation) -> AsyncGenerator[bytes]:
        """The answer as the AI SDK UI message stream, from its first event, whoever asks."""
        yield sse.start(generation.answer.message_id)
        yield sse.data("conversation", {"conversationId": generation.conversation_id, "title": generation.title})
        text_started = False
        async for event in generation.follow(self._settings.sse_heartbeat_s):
            if event is None:
                yield sse.HEARTBEAT
            elif isinstance(event, str):
                yield sse.text_delta(TEXT_PART, event)
            elif isinstance(event, ModelFacts):
                yield sse.data("model", event.facts)
                if not text_started:  # one text part for the whole answer: a fallback model continues it
                    text_started = True
                    yield sse.text_start(TEXT_PART)
            else:
                for chunk in _ending(event, text_started):
                    yield chunk
        yield sse.DONE

    async def stop(self, *, principal: Principal, conversation_id: str) -> bool:
        """Stop the conversation's answer, wherever it is being generated; False if none was.
        Raises ``ConversationNotFound`` for someone else's conversation."""
        stopping = await self._store.request_stop(principal=principal, conversation_id=conversation_id)
        generation = self._live.get(conversation_id)
        if generation is not None and not generation.ended:
            generation.stop()  # here: at once; on another instance, at its next progress flush
            return True
        return stopping is not None

    async def resume(self, *, principal: Principal, conversation_id: str) -> AsyncGenerator[bytes] | None:
        """The answer being generated in the conversation, from its start; None when there is none.
        Raises ``ConversationNotFound`` for someone else's conversation."""
        row = await self._store.live_answer(principal=principal, conversation_id=conversation_id)
        generation = self._live.get(conversation_id)
        if generation is not None and not generation.ended:
            return self.stream(generation)  # generated here: follow it exactly
        if row is None:
            return None
        return self._follow_row(principal, conversation_id, row)

    async def _follow_row(self, principal: Principal, conversation_id: str, row: AnswerRow) -> AsyncGenerator[bytes]:
        """An answer generated on another instance, followed through its row: what is saved so far,
        then each progress flush, until it ends. Postgres is the log."""
        yield sse.start(row.id)
        yield sse.data("conversation", {"conversationId": conversation_id})
        yield sse.text_start(TEXT_PART)
        sent, quiet_s = 0, 0.0
        while True:
            if len(row.content) > sent:
                yield sse.text_delta(TEXT_PART, row.content[sent:])
                sent, quiet_s = len(row.content), 0.0
            if row.status != "streaming":
                break
            await asyncio.sleep(self._settings.chat_flush_interval_s)
            quiet_s += self._settings.chat_flush_interval_s
            if quiet_s >= self._settings.sse_heartbeat_s:
                yield sse.HEARTBEAT
                quiet_s = 0.0
            latest = await self._store.answer(principal=principal, message_id=row.id)
            if latest is None:  # no model could answer: the empty answer was removed
                yield sse.text_end(TEXT_PART)
                yield sse.error(words.NO_ANSWER)
                yield sse.DONE
                return
            row = latest
        yield sse.text_end(TEXT_PART)
        if row.metadata and row.status in ("complete", "stopped", "failed"):
            yield sse.data("usage", row.metadata)
        if row.status == "interrupted":
            yield sse.error(words.ANSWER_INTERRUPTED)
        elif row.status == "failed":  # as the person who started it read it
            yield sse.error(str((row.metadata or {}).get("error") or words.WENT_WRONG))
        else:
            yield sse.finish()
        yield sse.DONE

    async def _record(self, turn: Turn, answer: Answer) -> dict[str, Any]:
        facts = answer.facts()
        await self._store.finish_answer(
            principal=turn.principal,
            conversation_id=turn.conversation_id,
            message_id=answer.message_id,
            content=answer.text,
            status=answer.status,
            metadata=facts,
            usage=answer.usage(),
            turn_id=turn.turn_id,
        )
        provider = answer.model.provider if answer.model else None
        observability.record_turn(
            provider=provider,
            ttft_ms=answer.ttft_ms,
            tokens=facts["tokens"],
            fallback=answer.fallback_reason is not None,
            failed=answer.status == "failed",
        )
        return facts

    async def _release(self, turn: Turn) -> None:
        """End a turn that has nothing to keep but the question (no model could answer)."""
        observability.record_turn(provider=None, ttft_ms=None, tokens=0, fallback=False, failed=True)
        await self._store.release_turn(
            principal=turn.principal,
            conversation_id=turn.conversation_id,
            turn_id=turn.turn_id,
            answer_id=turn.answer_id,
        )

    async def close(self) -> None:
        await self._flusher.close()


def _ending(event: Ended, text_started: bool) -> list[bytes]:
    """How an answer's end is told: its facts and ``finish``, or the sentence for the person."""
    chunks = [sse.text_end(TEXT_PART)] if text_started else []
    if event.facts is not None:
        chunks.append(sse.data("usage", event.facts))
    if event.error is None:
        chunks.append(sse.finish())
        return chunks
    if event.retry_in_s is not None:
        chunks.append(sse.data("retry", {"afterSeconds": max(1, round(event.retry_in_s))}))
    chunks.append(sse.error(event.error))
    return chunks
