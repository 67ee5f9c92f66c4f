"""POST /api/chat: validate, prepare the turn, stream it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from chimera.api.deps import CurrentUser, RuntimeDep
from chimera.chat import sse
from chimera.errors import RateLimited
from chimera.models import ChatRequest

router = APIRouter()


@router.post("/api/chat", response_class=StreamingResponse)
async def chat(body: ChatRequest, principal: CurrentUser, runtime: RuntimeDep) -> StreamingResponse:
    wait = await runtime.limiter.acquire(principal.user_id)
    if wait is not None:
        raise RateLimited(per_minute=runtime.settings.chat_rate_limit_per_minute, retry_after_s=wait)
    turn = await runtime.chat.prepare(principal=principal, request=body)
    return StreamingResponse(runtime.chat.stream(turn), media_type="text/event-stream", headers=sse.HEADERS)
