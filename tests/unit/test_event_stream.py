"""EventStreamResponse at the ASGI edge: every event is written as it comes; a person who leaves
ends their copy of the stream quietly (the events' generator is closed, nothing raises, the task
is not left cancelled); a server that shuts down still cancels it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from chimera.api.event_stream import EventStreamResponse

SCOPE: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}}


class Client:
    """The server's side of one connection: what was sent, and a disconnect to deliver on cue."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.leave = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.leave.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.sent if m["type"] == "http.response.body"]


class Events:
    """An answer's events; ``then_wait``: the generator then waits, as a live answer waits for tokens."""

    def __init__(self, chunks: list[bytes], *, then_wait: bool = False) -> None:
        self.chunks = chunks
        self.then_wait = then_wait
        self.closed = False
        self.waiting = asyncio.Event()

    async def __call__(self) -> AsyncGenerator[bytes]:
        try:
            for chunk in self.chunks:
                yield chunk
            if self.then_wait:
                self.waiting.set()
                await asyncio.Event().wait()  # never set: only a cancellation ends this
        finally:
            self.closed = True


def test_every_event_is_written_then_the_end() -> None:
    async def scene() -> tuple[Client, Events]:
        client, events = Client(), Events([b"data: 1\n\n", b"data: 2\n\n"])
        await EventStreamResponse(events())(SCOPE, client.receive, client.send)
        return client, events

    client, events = asyncio.run(scene())

    assert client.sent[0]["type"] == "http.response.start" and client.sent[0]["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in client.sent[0]["headers"]
    assert client.bodies() == [b"data: 1\n\n", b"data: 2\n\n", b""]
    assert client.sent[-1]["more_body"] is False
    assert events.closed


def test_a_person_who_leaves_ends_their_stream_quietly() -> None:
    async def scene() -> tuple[Client, Events, int]:
        client, events = Client(), Events([b"data: 1\n\n"], then_wait=True)
        response = asyncio.create_task(EventStreamResponse(events())(SCOPE, client.receive, client.send))
        await events.waiting.wait()
        client.leave.set()
        await response  # returns: no CancelledError escapes to the server
        return client, events, response.cancelling()

    client, events, cancelling = asyncio.run(scene())

    assert client.bodies() == [b"data: 1\n\n"]  # nothing after the person left, and no end to a closed socket
    assert events.closed
    assert cancelling == 0  # the task is not left cancelled for whatever awaits next


def test_a_server_that_shuts_down_still_cancels_the_stream() -> None:
    async def scene() -> Events:
        client, events = Client(), Events([b"data: 1\n\n"], then_wait=True)
        response = asyncio.create_task(EventStreamResponse(events())(SCOPE, client.receive, client.send))
        await events.waiting.wait()
        response.cancel()
        with pytest.raises(asyncio.CancelledError):
            await response
        return events

    assert asyncio.run(scene()).closed
