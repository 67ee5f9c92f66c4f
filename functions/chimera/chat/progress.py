"""Progress flushes: every answer this process is generating, written to Postgres about once a second.

One statement a tick for the whole process, however many answers are streaming: it appends each
one's new text, renews its conversation's lease, and reads back the stops people asked for (from
any instance: ``POST /api/chat/{id}/stop`` only sets a flag on the row). A process that dies loses
at most the last tick's text; its rows stop being flushed and read as interrupted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from chimera.chat.generation import Generation
from chimera.errors import StoreUnavailable

logger = logging.getLogger(__name__)


class ProgressStore(Protocol):
    async def flush_progress(self, progress: list[tuple[str, str]]) -> set[str]: ...


class ProgressFlusher:
    def __init__(self, store: ProgressStore, *, interval_s: float) -> None:
        self._store = store
        self._interval_s = interval_s
        self._live: dict[str, tuple[Generation, asyncio.Future[None]]] = {}  # by answer id
        self._task: asyncio.Task[None] | None = None

    def track(self, generation: Generation, begun: asyncio.Future[None]) -> None:
        """Flush ``generation`` from the tick after its rows exist (``begun``) until it ends."""
        self._live[generation.answer.message_id] = (generation, begun)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="progress-flusher")

    def untrack(self, generation: Generation) -> None:
        self._live.pop(generation.answer.message_id, None)

    async def _run(self) -> None:
        while self._live:
            await asyncio.sleep(self._interval_s)
            try:
                await self.flush()
            except Exception:  # never let one bad tick end the flushing of every answer
                logger.exception("progress flush failed")

    async def flush(self) -> None:
        ready = [
            generation
            for generation, begun in self._live.values()
            if begun.done() and not begun.cancelled() and begun.exception() is None and not generation.ended
        ]
        if not ready:
            return
        # Each answer's pieces not yet written; a flush that fails is simply retried next tick.
        upto = [len(generation.answer.pieces) for generation in ready]
        progress = [
            (generation.answer.message_id, "".join(generation.answer.pieces[generation.flushed_pieces : end]))
            for generation, end in zip(ready, upto, strict=True)
        ]
        try:
            stops = await self._store.flush_progress(progress)
        except StoreUnavailable:
            return  # logged by the store; the next tick writes what this one could not
        for generation, end in zip(ready, upto, strict=True):
            generation.flushed_pieces = end
            if generation.answer.message_id in stops:
                generation.stop()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
