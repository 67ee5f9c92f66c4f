"""One chat turn, from a validated request to a stream of SSE bytes and rows in Postgres.

The first token never waits for the database: the person's message is saved by a task that runs
alongside the model call, and the answer is saved when it ends, whole or partial.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from chimera import observability, words
from chimera.chat import sse
from chimera.chat.background import BackgroundWrites
from chimera.errors import StoreUnavailable
from chimera.models import ChatRequest, ConversationContext, Principal, StoredMessage, UsageRecord
from chimera.providers.base import PromptMessage, TextDelta, Usage
from chimera.providers.catalogue import ModelSpec
from chimera.providers.router import ModelStarted, NoProviderAvailable, Router, RouterEvent, Spent
from chimera.settings import ChatSettings
from chimera.text import storable

logger = logging.getLogger(__name__)

TEXT_PART = "t0"  # the answer is one text part, whichever models wrote it
SYSTEM_PROMPT = "You are Chimera, a helpful assistant. Answer clearly and concisely."
TITLE_CHARS = 60


class ChatStore(Protocol):
    async def claim_turn(
        self, *, principal: Principal, conversation_id: str, turn_id: str, limit: int
    ) -> ConversationContext: ...

    async def release_turn(self, *, principal: Principal, conversation_id: str, turn_id: str) -> None: ...

    async def save_user_message(
        self, *, principal: Principal, conversation_id: str, message_id: str, content: str, new_title: str | None
    ) -> None: ...

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
    ) -> None: ...


def title_from(message: str) -> str:
    line = " ".join(message.split())
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut + "…"


@dataclass
class _Answer:
    """What has been streamed so far, and by whom."""

    started: float = field(default_factory=time.monotonic)
    model: ModelSpec | None = None
    fallback_reason: str | None = None
    parts: list[str] = field(default_factory=list)
    ttft_ms: int | None = None
    spent: list[Spent] = field(default_factory=list)  # per model that answered, whole or in part
    unreported: int = 0  # pieces the answering model sent that no ``Spent`` covers yet

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


@dataclass
class Turn:
    principal: Principal
    request: ChatRequest
    conversation_id: str
    title: str
    is_new: bool
    prompt: list[PromptMessage]
    user_message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    assistant_message_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class ChatService:
    def __init__(
        self, *, store: ChatStore, router: Router, settings: ChatSettings, background: BackgroundWrites
    ) -> None:
        self._store = store
        self._router = router
        self._settings = settings
        self._background = background

    async def prepare(self, *, principal: Principal, request: ChatRequest) -> Turn:
        """Everything that must be known before the stream starts, and the conversation taken for it.

        Raises ``ConversationNotFound``, or ``ConversationBusy`` while another turn is answering.
        """
        history: list[StoredMessage] = []
        title = title_from(request.message)
        turn_id = str(uuid.uuid4())  # the person's message's id, and the turn's
        if request.conversation_id is not None:
            context = await self._store.claim_turn(
                principal=principal,
                conversation_id=request.conversation_id,
                turn_id=turn_id,
                limit=self._settings.history_turns,
            )
            history, title = context.messages, context.title
        prompt = [PromptMessage("system", SYSTEM_PROMPT)]
        prompt += [PromptMessage(m.role, m.content) for m in history if m.content]
        prompt.append(PromptMessage("user", request.message))
        return Turn(
            principal=principal,
            request=request,
            conversation_id=request.conversation_id or str(uuid.uuid4()),
            title=title,
            is_new=request.conversation_id is None,
            prompt=prompt,
            user_message_id=turn_id,
        )

    async def stream(self, turn: Turn) -> AsyncGenerator[bytes]:
        answer = _Answer()
        user_saved = self._background.spawn(
            self._store.save_user_message(
                principal=turn.principal,
                conversation_id=turn.conversation_id,
                message_id=turn.user_message_id,
                content=turn.request.message,
                new_title=turn.title if turn.is_new else None,
            ),
            name="save-user-message",
        )
        ended = False
        try:
            yield sse.start(turn.assistant_message_id)
            conversation = {"conversationId": turn.conversation_id, "title": turn.title}
            yield sse.data("conversation", conversation)
            events = self._router.stream(choice=turn.request.model, messages=turn.prompt)
            async for item in self._with_heartbeats(events):
                if item is None:
                    yield sse.HEARTBEAT
                elif isinstance(item, TextDelta):
                    if answer.ttft_ms is None:
                        answer.ttft_ms = answer.elapsed_ms()
                    text = storable(item.text)  # what is shown is exactly what is saved
                    answer.parts.append(text)
                    answer.unreported += 1
                    yield sse.text_delta(TEXT_PART, text)
                elif isinstance(item, ModelStarted):
                    first = answer.model is None
                    answer.model, answer.fallback_reason = item.model, item.fallback_reason
                    yield sse.data("model", self._model_facts(answer) | {"continues": item.continues})
                    if first:  # one text part for the whole answer: a fallback model continues it
                        yield sse.text_start(TEXT_PART)
                elif isinstance(item, Spent):
                    answer.spent.append(item)
                    answer.unreported = 0
            yield sse.text_end(TEXT_PART)
            ended = True
            # The save is a task of its own: a person who leaves now does not cancel it.
            saved = self._background.spawn(self._save_complete(turn, answer, user_saved), name="save-answer")
            facts = await asyncio.shield(saved)
            yield sse.data("usage", facts)
            yield sse.finish()
            self._record(answer, tokens=facts["inputTokens"] + facts["outputTokens"], failed=False)
        except NoProviderAvailable as exc:
            ended = True
            self._record(answer, tokens=0, failed=True)
            await self._settle(user_saved)
            await self._release(turn)  # before the person reads the error, the conversation is free
            if exc.retry_in_s is not None:
                yield sse.data("retry", {"afterSeconds": max(1, round(exc.retry_in_s))})
            yield sse.error(exc.message)
        except StoreUnavailable:
            ended = True
            await self._release(turn)
            yield sse.error(words.NOT_SAVED)
        except Exception:
            ended = True
            logger.exception("chat turn failed")
            await self._settle(user_saved)
            await self._release(turn)
            yield sse.error(words.WENT_WRONG)
        finally:
            if not ended:  # the person went away mid-answer: keep what they saw
                self._background.spawn(self._save_partial(turn, answer, user_saved), name="save-partial-answer")
        yield sse.DONE

    @staticmethod
    def _record(answer: _Answer, *, tokens: int, failed: bool) -> None:
        provider = answer.model.provider if answer.model else None
        fallback = answer.fallback_reason is not None
        observability.record_turn(
            provider=provider, ttft_ms=answer.ttft_ms, tokens=tokens, fallback=fallback, failed=failed
        )

    async def _settle(self, user_saved: asyncio.Task[None]) -> None:
        """Wait for the person's message to be saved; its failure is logged by the task itself."""
        await asyncio.wait([user_saved])

    async def _with_heartbeats(self, events: AsyncGenerator[RouterEvent]) -> AsyncGenerator[RouterEvent | None]:
        """The router's events, and ``None`` after each heartbeat interval in which none came.

        Retries, fallbacks, a model reasoning or a stall after some text can keep a stream silent
        for tens of seconds; a comment line now and then keeps proxies (CloudFront's 60 s read
        timeout) from cutting it, before the first word and after it alike.
        """
        pending: asyncio.Future[RouterEvent] | None = None
        try:
            while True:
                pending = pending or asyncio.ensure_future(anext(events))
                done, _ = await asyncio.wait({pending}, timeout=self._settings.sse_heartbeat_s)
                if not done:
                    yield None
                    continue
                finished, pending = pending, None
                try:
                    item = finished.result()
                except StopAsyncIteration:
                    return
                yield item
        finally:
            if pending is not None:
                pending.cancel()
                await asyncio.wait({pending})
            await events.aclose()

    async def _save_complete(self, turn: Turn, answer: _Answer, user_saved: asyncio.Task[None]) -> dict[str, Any]:
        await user_saved
        return await self._save_answer(turn, answer, status="complete")

    async def _save_partial(self, turn: Turn, answer: _Answer, user_saved: asyncio.Task[None]) -> None:
        await user_saved
        if answer.text:
            await self._save_answer(turn, answer, status="partial")  # ends the turn too
        else:
            await self._store.release_turn(
                principal=turn.principal, conversation_id=turn.conversation_id, turn_id=turn.user_message_id
            )

    async def _release(self, turn: Turn) -> None:
        """End a turn that has no answer to save, before the stream ends: a task of its own (a person
        who leaves does not cancel it), awaited so the next message never finds the conversation busy.
        If the database is down the lease simply runs out."""
        release = self._store.release_turn(
            principal=turn.principal, conversation_id=turn.conversation_id, turn_id=turn.user_message_id
        )
        task = self._background.spawn(release, name="release-turn")
        await asyncio.wait([asyncio.shield(task)])  # its failure is logged by the task itself

    async def _save_answer(self, turn: Turn, answer: _Answer, *, status: str) -> dict[str, Any]:
        usage = self._usage_records(turn, answer)
        input_tokens = sum(u.input_tokens for u in usage)
        output_tokens = sum(u.output_tokens for u in usage)
        cost_cents = float(sum((u.cost_cents for u in usage), Decimal(0)))
        facts = self._model_facts(answer) | {
            "tokens": input_tokens + output_tokens,
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "costCents": cost_cents,
            "duration": answer.elapsed_ms(),
            "ttft": answer.ttft_ms,
            "status": status,
            "replyTo": turn.user_message_id,  # the question this answers
            "models": [s.model.key for s in answer.spent],  # more than one: a fallback continued it
        }
        await self._store.save_assistant_message(
            principal=turn.principal,
            conversation_id=turn.conversation_id,
            message_id=turn.assistant_message_id,
            content=answer.text,
            metadata=facts,
            usage=usage,
            turn_id=turn.user_message_id,
        )
        return {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "costCents": cost_cents,
            "durationMs": facts["duration"],
            "ttftMs": answer.ttft_ms,
        }

    def _model_facts(self, answer: _Answer) -> dict[str, Any]:
        spec = answer.model
        return {
            "model": spec.key if spec else None,
            "provider": spec.provider if spec else None,
            "providerModel": spec.provider_model if spec else None,
            "simulated": self._settings.chimera_simulated_providers,
            "fallbackReason": answer.fallback_reason,
        }

    @staticmethod
    def _usage_records(turn: Turn, answer: _Answer) -> list[UsageRecord]:
        """One ledger row per model that spent tokens on this answer; the answering model's own
        count when it reported one, an estimate (and said so) when the answer was cut short."""
        spent = list(answer.spent)
        if answer.model is not None and answer.unreported:
            estimate = Usage(
                input_tokens=sum(len(m.content) for m in turn.prompt) // 4, output_tokens=answer.unreported
            )
            spent.append(Spent(answer.model, estimate, estimated=True))
        return [
            UsageRecord(
                provider=s.model.provider,
                model=s.model.key,
                input_tokens=s.usage.input_tokens,
                output_tokens=s.usage.output_tokens,
                cost_cents=s.model.cost_cents(input_tokens=s.usage.input_tokens, output_tokens=s.usage.output_tokens),
                estimated=s.estimated,
            )
            for s in spent
        ]
