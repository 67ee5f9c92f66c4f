"""The stream encoding for whoever follows an answer: the AI SDK UI message stream (v1).

Two sources, one shape: an answer generated in this process is followed through its live log
(exact, every piece as it comes), one generated on another instance through its row in Postgres
(the text saved so far, then each progress flush). Both end the same way: the facts and
``finish``, or the sentence for the person.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

from chimera import words
from chimera.chat import sse
from chimera.chat.generation import Ended, Generation, ModelFacts
from chimera.store.chat_store import AnswerRow

TEXT_PART = "t0"  # the answer is one text part, whichever models wrote it


async def generation_stream(generation: Generation, *, heartbeat_s: float) -> AsyncGenerator[bytes]:
    """Each run of events the generation has logged is one write (see ``Generation.follow``): a
    piece at a time when the loop keeps up, what piled up at once when it does not."""
    # questionId: the person's message this answers, so a page can offer to edit it.
    conversation = {
        "conversationId": generation.conversation_id,
        "title": generation.title,
        "questionId": generation.answer.reply_to,
    }
    yield sse.start(generation.answer.message_id) + sse.data("conversation", conversation)
    text_started = False
    async for run in generation.follow(heartbeat_s):
        if run is None:
            yield sse.HEARTBEAT
            continue
        chunks: list[bytes] = []
        for event in run:
            if isinstance(event, str):
                chunks.append(sse.text_delta(TEXT_PART, event))
            elif isinstance(event, ModelFacts):
                chunks.append(sse.data("model", event.facts))
                if not text_started:  # one text part for the whole answer: a fallback model continues it
                    text_started = True
                    chunks.append(sse.text_start(TEXT_PART))
            else:
                chunks.extend(_ending(event, text_started))
                chunks.append(sse.DONE)
        yield b"".join(chunks)


async def row_stream(
    row: AnswerRow,
    *,
    conversation_id: str,
    reread: Callable[[int], Awaitable[AnswerRow | None]],
    interval_s: float,
    heartbeat_s: float,
) -> AsyncGenerator[bytes]:
    """An answer generated on another instance, followed through its row until it ends: Postgres
    is the log. ``reread(offset)`` reads what the row says after its first ``offset`` characters
    (None: it is gone, no model could answer): one small statement a flush."""
    yield sse.start(row.id)
    yield sse.data("conversation", {"conversationId": conversation_id})
    yield sse.text_start(TEXT_PART)
    sent, quiet_s = 0, 0.0
    new_text = row.content
    while True:
        if new_text:
            yield sse.text_delta(TEXT_PART, new_text)
            sent, quiet_s = sent + len(new_text), 0.0
        if row.status != "streaming":
            break
        await asyncio.sleep(interval_s)
        quiet_s += interval_s
        if quiet_s >= heartbeat_s:
            yield sse.HEARTBEAT
            quiet_s = 0.0
        latest = await reread(sent)
        if latest is None:
            yield sse.text_end(TEXT_PART)
            yield sse.error(words.NO_ANSWER)
            yield sse.DONE
            return
        row, new_text = latest, latest.content
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
