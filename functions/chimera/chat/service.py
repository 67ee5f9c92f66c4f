"""One chat turn, read top-down: prepare it (context, title, prompt), start its answer as a task of
its own (``Generation``), stream that answer to whoever follows it, stop it, resume it.

The first token never waits for the database: the turn's rows are written by a task that runs
alongside the model call; the answer's text is flushed about once a second (``progress``) and
recorded when it ends, whole, stopped or failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Coroutine
from typing import Any, Protocol

from chimera import observability
from chimera.chat import following
from chimera.chat.answer import Answer
from chimera.chat.background import BackgroundWrites
from chimera.chat.generation import Generation
from chimera.chat.progress import ProgressFlusher
from chimera.chat.turn import Turn, TurnStore, prepare_turn
from chimera.models import AnyChatRequest, Principal, UsageRecord
from chimera.providers.router import Router
from chimera.settings import ChatSettings
from chimera.store.chat_store import AnswerRow

logger = logging.getLogger(__name__)


class ChatStore(TurnStore, Protocol):
    """What a turn reads and writes, beyond preparing it."""

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

    async def answer_since(self, message_id: str, offset: int) -> AnswerRow | None: ...


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
        """The turn, and its conversation taken for it (``chimera.chat.turn``)."""
        return await prepare_turn(self._store, principal, request, history_turns=self._settings.history_turns)

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
            _after_the_model_call(
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
                )
            ),
            name="begin-turn",
        )
        generation = Generation(
            answer=answer,
            owner=turn.principal.user_id,
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

    def stream(self, generation: Generation) -> AsyncGenerator[bytes]:
        """The answer as the AI SDK UI message stream, from its first event, whoever asks."""
        return following.generation_stream(generation, heartbeat_s=self._settings.sse_heartbeat_s)

    def _generating_here(self, principal: Principal, conversation_id: str) -> Generation | None:
        """The person's answer being generated in this process (its rows may not be written yet)."""
        generation = self._live.get(conversation_id)
        if generation is None or generation.ended or generation.owner != principal.user_id:
            return None
        return generation

    async def stop(self, *, principal: Principal, conversation_id: str) -> bool:
        """Stop the conversation's answer, wherever it is being generated; False if none was.
        Raises ``ConversationNotFound`` for someone else's conversation."""
        generation = self._generating_here(principal, conversation_id)
        if generation is not None:
            generation.stop()  # here: at once
            return True
        stopping = await self._store.request_stop(principal=principal, conversation_id=conversation_id)
        return stopping is not None  # elsewhere: at its generator's next progress flush

    async def resume(self, *, principal: Principal, conversation_id: str) -> AsyncGenerator[bytes] | None:
        """The answer being generated in the conversation, from its start; None when there is none.
        Raises ``ConversationNotFound`` for someone else's conversation."""
        generation = self._generating_here(principal, conversation_id)
        if generation is not None:
            return self.stream(generation)  # generated here: follow it exactly
        row = await self._store.live_answer(principal=principal, conversation_id=conversation_id)
        if row is None:
            return None
        return following.row_stream(
            row,
            conversation_id=conversation_id,
            reread=lambda offset: self._store.answer_since(row.id, offset),
            interval_s=self._settings.chat_flush_interval_s,
            heartbeat_s=self._settings.sse_heartbeat_s,
        )

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


async def _after_the_model_call(write: Coroutine[Any, Any, None]) -> None:
    """``write``, once the generation task started next has sent its model request: tasks start
    in the order they were made, and one turn to the loop lets the generation reach its first
    wait (the provider's answer) before the rows' statement is composed and sent."""
    await asyncio.sleep(0)
    await write
