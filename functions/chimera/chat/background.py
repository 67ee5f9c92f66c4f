"""Writes that must finish even when the request that started them is gone.

A person who closes the tab cancels the request's task; the partial answer is still saved by a
task of its own. The app drains these on shutdown so a stopping process loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


class BackgroundWrites:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)  # a reference, or the loop may collect the task half-way
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            logger.error("background write failed", extra={"task": task.get_name(), "error": type(exc).__name__})

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait for the tasks under way; cancel what is still running after ``timeout_s``."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
