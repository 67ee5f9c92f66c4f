"""One answer being generated, as a task of its own: the HTTP response only follows it.

A person who closes the tab, reloads or switches chats does not stop the answer: it runs to its
end and is recorded. Everyone following it (the response that started it, a resume from a second
tab on this instance) reads the same log of events from the start, so each sees the whole answer
exactly once. ``stop()`` ends it early: the provider's stream is closed (the provider stops
generating) and what was said is kept as ``stopped``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chimera import words
from chimera.chat.answer import Answer
from chimera.errors import StoreUnavailable
from chimera.providers.base import TextDelta
from chimera.providers.router import ModelStarted, NoProviderAvailable, RouterEvent, Spent
from chimera.text import storable

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """A model started answering (or took over mid-answer: ``continues``)."""

    facts: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Ended:
    """The answer's end: its facts when it was recorded, else the sentence for the person."""

    facts: dict[str, Any] | None
    error: str | None = None
    retry_in_s: float | None = None


Event = ModelFacts | str | Ended  # a str is a piece of answer text


class Generation:
    def __init__(
        self,
        *,
        answer: Answer,
        owner: str,
        conversation_id: str,
        title: str,
        events: AsyncGenerator[RouterEvent],
        begun: Awaitable[None],
        record: Callable[[Answer], Awaitable[dict[str, Any]]],
        release: Callable[[], Awaitable[None]],
    ) -> None:
        self.answer = answer
        self.owner = owner  # the person whose answer this is (user id)
        self.conversation_id = conversation_id
        self.title = title
        self.log: list[Event] = []
        self.flushed_pieces = 0  # how many of the answer's pieces the progress flusher has written
        self._events = events
        self._begun = begun
        self._record = record
        self._release = release
        self._changed = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._stop_requested = False

    @property
    def ended(self) -> bool:
        return bool(self.log) and isinstance(self.log[-1], Ended)

    def stop(self) -> None:
        """End the answer now; what was generated is kept as ``stopped``. Once is enough: a second
        stop (the next flush reads the same request back) must not cut the provider's close short."""
        if self._stop_requested:
            return
        self._stop_requested = True
        if self._pump is not None:
            self._pump.cancel()

    async def run(self) -> None:
        """Generate, then record; never raises (a failure ends the log with a sentence)."""
        failure: Ended | None = None
        self._pump = asyncio.ensure_future(self._consume())
        if self._stop_requested:
            self._pump.cancel()
        try:
            await self._pump
            self.answer.status = "complete"
        except asyncio.CancelledError:
            if not self._stop_requested:
                raise  # the process is shutting down: the row stays streaming and reads as interrupted
            self.answer.status = "stopped"
        except NoProviderAvailable as exc:
            self.answer.status, failure = "failed", Ended(None, exc.message, exc.retry_in_s)
        except Exception:
            logger.exception("chat turn failed")
            self.answer.status, failure = "failed", Ended(None, words.WENT_WRONG)
        if failure is not None:
            self.answer.error = failure.error
        try:
            await self._begun  # the rows exist before they are finished
            if failure is not None and not self.answer.pieces:
                await self._release()  # nothing to keep but the question
                self._emit(failure)
                return
            facts = await self._record(self.answer)
            self._emit(Ended(facts, failure.error, failure.retry_in_s) if failure else Ended(facts))
        except StoreUnavailable:
            self._emit(Ended(None, words.NOT_SAVED))
        except Exception:
            logger.exception("recording the answer failed")
            self._emit(Ended(None, words.WENT_WRONG))

    async def _consume(self) -> None:
        try:
            async for item in self._events:
                if isinstance(item, TextDelta):
                    text = storable(item.text)  # what is shown is exactly what is saved
                    self.answer.add_text(text)
                    self._emit(text)
                elif isinstance(item, ModelStarted):
                    self.answer.model_started(item)
                    self._emit(ModelFacts(self.answer.model_facts() | {"continues": item.continues}))
                elif isinstance(item, Spent):
                    self.answer.add_spent(item)
        finally:
            await self._events.aclose()  # closes the provider's stream: it stops generating

    def _emit(self, event: Event) -> None:
        self.log.append(event)
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, heartbeat_s: float) -> AsyncIterator[list[Event] | None]:
        """Every event from the first, as they come, in runs: each run is all that was logged since
        the last one was taken, so a follower never waits for more (nothing is held back), and one
        that fell behind (a busy loop) catches up in one write instead of one per piece. ``None``
        after each ``heartbeat_s`` of silence."""
        seen = 0
        while True:
            if seen < len(self.log):
                run = self.log[seen:]
                seen += len(run)
                yield run
                if isinstance(run[-1], Ended):
                    return
            changed = self._changed
            try:
                async with asyncio.timeout(heartbeat_s):
                    await changed.wait()
            except TimeoutError:
                yield None
