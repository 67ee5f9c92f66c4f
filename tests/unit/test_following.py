"""How a live answer is written to whoever follows it: a write per piece while the loop keeps up,
and what piled up in one write when the follower fell behind; either way every event once, in order.

The generation is the real one; only its input (the router's events) and its recording are given
here, at the edge, so the test controls when each piece arrives.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from chimera.chat.answer import Answer
from chimera.chat.following import generation_stream
from chimera.chat.generation import Generation
from chimera.providers.base import TextDelta
from chimera.providers.catalogue import load_catalogue
from chimera.providers.router import ModelStarted, RouterEvent

PIECES = ["Hello", ", ", "wor", "ld", "!"]
MODEL = load_catalogue().spec("groq-llama-70b")


def events_of(writes: list[bytes]) -> list[dict[str, Any] | str]:
    """The SSE events in the writes, in order (``[DONE]`` as the string)."""
    found: list[dict[str, Any] | str] = []
    for block in b"".join(writes).decode().split("\n\n"):
        if block.startswith("data: "):
            payload = block.removeprefix("data: ")
            found.append(payload if payload == "[DONE]" else json.loads(payload))
    return found


def generation(events: AsyncGenerator[RouterEvent]) -> Generation:
    async def record(answer: Answer) -> dict[str, Any]:
        return {"text": answer.text}

    async def release() -> None:
        raise AssertionError("an answer with text is recorded, not released")

    begun: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    begun.set_result(None)
    return Generation(
        answer=Answer(message_id="m1", reply_to="q1", simulated=True, prompt=[]),
        owner="person",
        conversation_id="c1",
        title="A title",
        events=events,
        begun=begun,
        record=record,
        release=release,
    )


def expected_events() -> list[dict[str, Any] | str]:
    model = {"type": "data-model"}  # its facts are the generation's business, not this test's
    return [
        {"type": "start", "messageId": "m1"},
        {"type": "data-conversation", "data": {"conversationId": "c1", "title": "A title", "questionId": "q1"}},
        model,
        {"type": "text-start", "id": "t0"},
        *[{"type": "text-delta", "id": "t0", "delta": piece} for piece in PIECES],
        {"type": "text-end", "id": "t0"},
        {"type": "data-usage", "data": {"text": "".join(PIECES)}},
        {"type": "finish"},
        "[DONE]",
    ]


def same_events(found: list[dict[str, Any] | str]) -> bool:
    expected = expected_events()
    if len(found) != len(expected):
        return False
    for got, want in zip(found, expected, strict=True):
        if isinstance(want, dict) and want == {"type": "data-model"}:
            if not (isinstance(got, dict) and got["type"] == "data-model" and got["data"]["provider"] == "groq"):
                return False
        elif got != want:
            return False
    return True


def test_a_follower_that_keeps_up_gets_a_write_per_piece() -> None:
    asyncio.run(keeping_up())


async def keeping_up() -> None:
    released = asyncio.Queue[None]()

    async def router() -> AsyncGenerator[RouterEvent]:
        yield ModelStarted(model=MODEL, fallback_reason=None)
        for piece in PIECES:
            await released.get()  # the next piece comes only when the test says
            yield TextDelta(piece)

    answer = generation(router())
    running = asyncio.create_task(answer.run())
    stream = generation_stream(answer, heartbeat_s=60)
    writes = [await anext(stream), await anext(stream)]  # start and conversation; the model
    for _ in PIECES:
        released.put_nowait(None)
        writes.append(await anext(stream))
        assert b'"text-delta"' in writes[-1] and writes[-1].count(b"data: ") == 1  # that piece alone
    writes.extend([chunk async for chunk in stream])
    await running

    assert same_events(events_of(writes)), events_of(writes)


def test_a_follower_that_fell_behind_gets_what_piled_up_in_one_write() -> None:
    asyncio.run(falling_behind())


async def falling_behind() -> None:
    async def router() -> AsyncGenerator[RouterEvent]:
        yield ModelStarted(model=MODEL, fallback_reason=None)
        for piece in PIECES:
            yield TextDelta(piece)

    answer = generation(router())
    await answer.run()  # the whole answer is logged before the follower reads anything

    writes = [chunk async for chunk in generation_stream(answer, heartbeat_s=60)]

    assert len(writes) == 2, writes  # the opening, then everything else at once
    assert same_events(events_of(writes)), events_of(writes)
