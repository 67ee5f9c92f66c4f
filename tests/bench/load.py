"""The load generator, as a process of its own: ``python -m tests.bench.load < job.json``.

Its CPU is then neither the app's nor the benchmark driver's, and the driver can read how much it
used (``cpu_s`` in its answer) to show that the client was not the bottleneck. It speaks raw
HTTP/1.1 (``tests.bench.wire``) over one keep-alive connection per person.

A job (JSON on stdin) is a round of closed-loop chats: ``concurrency`` people, each sending its
next chat as soon as its last answer ended, until ``chats`` were sent. Each person continues one
conversation (as a person does), under their own token. ``target`` is ``chimera`` (POST /api/chat,
the AI SDK UI message stream) or ``groq`` (the simulator reached directly, as Chimera's Groq SDK
reaches it: the model's own time, to subtract). Each person first sends ``warmup`` chats that are
not counted (connections opened, caches warm); people then start ``ramp_s / concurrency`` apart.

The answer (JSON on stdout): for every counted chat, when it was sent, its first token, its end
(``perf_counter`` seconds: one clock for every process on the machine), its largest gap between
two tokens, its ids and text (to check against the rows), and any error; the process's CPU time.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.bench.wire import Connection, WireError


@dataclass
class Job:
    target: str  # "chimera" | "groq"
    host: str
    port: int
    concurrency: int
    chats: int
    tokens: list[str] = field(default_factory=list)  # a bearer token per person (chimera)
    model: str = ""  # the provider's model id (groq)
    warmup: int = 1
    ramp_s: float = 0.0


@dataclass
class Chat:
    person: int
    sent: float
    first: float | None = None
    end: float | None = None
    max_gap: float = 0.0
    pieces: int = 0
    answer_id: str | None = None
    conversation_id: str | None = None
    text: str = ""
    finished: bool = False
    error: str | None = None


async def chimera_chat(conn: Connection, job: Job, person: int, conversation: str | None, n: int) -> Chat:
    body: dict[str, Any] = {"message": f"Question {n} from person {person}: tell me about databases."}
    if conversation is not None:
        body["conversationId"] = conversation
    headers = {"authorization": f"Bearer {job.tokens[person]}"}
    chat = Chat(person=person, sent=time.perf_counter())
    response = await conn.send("POST", "/api/chat", headers=headers, body=body)
    if response.status != 200:
        chat.error = f"HTTP {response.status}"
        await conn.body(response)
        return chat
    pieces: list[str] = []
    last = 0.0
    async for at, data in conn.events(response):
        if data.startswith('{"type":"text-delta"'):
            pieces.append(json.loads(data)["delta"])
            if chat.first is None:
                chat.first = at
            else:
                chat.max_gap = max(chat.max_gap, at - last)
            last = at
        elif data.startswith('{"type":"start"'):
            chat.answer_id = json.loads(data)["messageId"]
        elif data.startswith('{"type":"data-conversation"'):
            chat.conversation_id = json.loads(data)["data"]["conversationId"]
        elif data.startswith('{"type":"finish"'):
            chat.finished = True
        elif data.startswith('{"type":"error"'):
            chat.error = json.loads(data)["errorText"]
    chat.end, chat.text, chat.pieces = time.perf_counter(), "".join(pieces), len(pieces)
    return chat


async def groq_chat(conn: Connection, job: Job, person: int, _: str | None, n: int) -> Chat:
    body = {
        "model": job.model,
        "messages": [{"role": "user", "content": f"Question {n} from person {person}: tell me about databases."}],
        "stream": True,
    }
    chat = Chat(person=person, sent=time.perf_counter())
    response = await conn.send(
        "POST", "/openai/v1/chat/completions", headers={"authorization": "Bearer bench"}, body=body
    )
    if response.status != 200:
        chat.error = f"HTTP {response.status}"
        await conn.body(response)
        return chat
    last = 0.0
    async for at, data in conn.events(response):
        if data == "[DONE]":
            chat.finished = True
            continue
        choices = json.loads(data).get("choices") or [{}]
        if not (choices[0].get("delta") or {}).get("content"):
            continue
        chat.pieces += 1
        if chat.first is None:
            chat.first = at
        else:
            chat.max_gap = max(chat.max_gap, at - last)
        last = at
    chat.end = time.perf_counter()
    return chat


async def run(job: Job) -> dict[str, Any]:
    one = chimera_chat if job.target == "chimera" else groq_chat
    numbers = iter(range(job.chats))
    chats: list[Chat] = []
    ready = asyncio.Barrier(job.concurrency + 1)

    async def person(i: int) -> None:
        conversation: str | None = None
        async with Connection(job.host, job.port) as conn:
            try:
                for w in range(job.warmup):
                    conversation = (await one(conn, job, i, conversation, -1 - w)).conversation_id or conversation
            finally:
                await ready.wait()
            await asyncio.sleep(i * job.ramp_s / job.concurrency)
            for n in numbers:
                try:
                    chat = await one(conn, job, i, conversation, n)
                except (WireError, OSError) as exc:
                    chat = Chat(person=i, sent=time.perf_counter(), error=f"connection: {exc}")
                    await conn.close()
                chats.append(chat)
                conversation = chat.conversation_id or conversation

    people = [asyncio.create_task(person(i)) for i in range(job.concurrency)]
    await ready.wait()
    started, cpu_before = time.perf_counter(), time.process_time()
    await asyncio.gather(*people)
    return {
        "started": started,
        "elapsed_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_before,
        "chats": [asdict(chat) for chat in chats],
    }


def main() -> None:
    job = Job(**json.load(sys.stdin))
    # A socket per person: the default 1,024 descriptors are too few for a thousand.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    json.dump(asyncio.run(run(job)), sys.stdout)


if __name__ == "__main__":
    main()
