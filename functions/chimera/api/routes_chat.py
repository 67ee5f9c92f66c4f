"""POST /api/chat: validate, count the chat against the limits for people, prepare the turn, stream it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from chimera.api.deps import ChatDep, CurrentUser
from chimera.api.problems import problem_responses
from chimera.chat import sse
from chimera.models import ChatRequest
from chimera.settings import ChatSettings

router = APIRouter()

# Set by CloudFront's viewer-request function on the chat behaviours (infra/constructs/web.py).
VIEWER_IP_HEADER = "x-chimera-viewer-ip"


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
async def chat(body: ChatRequest, principal: CurrentUser, chat: ChatDep, request: Request) -> StreamingResponse:
    # The body is valid and the person signed in (a 422 or 401 never gets here). The chat is
    # counted against the limits before the turn is prepared, so two sent together cannot both
    # take the last place; if preparing refuses it (not their conversation, one still answering,
    # the database down), the count is given back: a refused request spends nothing.
    admitted = await chat.limits.admit(user_id=principal.user_id, address=client_address(request, chat.settings))
    try:
        turn = await chat.service.prepare(principal=principal, request=body)
    except Exception:
        await admitted.refund()
        raise
    return StreamingResponse(chat.service.stream(turn), media_type="text/event-stream", headers=sse.HEADERS)


def client_address(request: Request, settings: ChatSettings) -> str | None:
    """The address the per-network limit counts, never one a client can choose.

    With the origin guard on, the request provably came through CloudFront, and the socket peer is
    CloudFront or the Web Adapter, not the person: CloudFront's viewer-request function writes the
    viewer's address into ``VIEWER_IP_HEADER``, replacing any value the client sent. Without the
    guard (a laptop, the tests) nothing vouches for any header, so the socket peer is the client.
    None (the header missing behind the guard) leaves only the person's limits.
    """
    if settings.chimera_origin_secret is not None:
        return request.headers.get(VIEWER_IP_HEADER) or None
    return request.client.host if request.client else None
