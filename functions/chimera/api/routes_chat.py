"""POST /api/chat: validate, prepare the turn, stream it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from chimera.api.deps import ChatDep, CurrentUser
from chimera.api.problems import problem_responses
from chimera.chat import sse
from chimera.errors import RateLimited
from chimera.models import ChatRequest

router = APIRouter()


STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer as an AI SDK UI message stream (Server-Sent Events, one JSON part per event)",
        # Each event's `data` is one JSON part (start, text-delta, data-*, finish, error, ...), and
        # the last one is the literal [DONE]; comments (": keep-alive") carry no event.
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "properties": {"data": {"type": "string"}, "event": {"type": "string"}, "id": {"type": "string"}},
                    "required": ["data"],
                }
            }
        },
    }
}


@router.post(
    "/api/chat",
    response_class=StreamingResponse,
    responses=STREAM_RESPONSE | problem_responses(404, 409, 429),
    summary="Send a message and stream the answer",
)
async def chat(body: ChatRequest, principal: CurrentUser, chat: ChatDep) -> StreamingResponse:
    wait = await chat.limiter.acquire(principal.user_id)
    if wait is not None:
        raise RateLimited(per_minute=chat.settings.chat_rate_limit_per_minute, retry_after_s=wait)
    turn = await chat.service.prepare(principal=principal, request=body)
    return StreamingResponse(chat.service.stream(turn), media_type="text/event-stream", headers=sse.HEADERS)
