"""The history API: a person's conversations, listed, read, renamed and deleted.

Another person's conversation answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from chimera.api.deps import ConversationId, CurrentUser, HistoryStoreDep
from chimera.api.problems import problem_responses
from chimera.models import (
    ConversationDetail,
    ConversationPage,
    ConversationRename,
    ConversationSummary,
)

router = APIRouter(prefix="/api/conversations", tags=["history"])


@router.get("", response_model=ConversationPage, responses=problem_responses(400))
async def list_conversations(
    principal: CurrentUser,
    history: HistoryStoreDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ConversationPage:
    return await history.list_conversations(principal=principal, limit=limit, cursor=cursor)


@router.get("/{conversation_id}", response_model=ConversationDetail, responses=problem_responses(404))
async def get_conversation(
    conversation_id: ConversationId, principal: CurrentUser, history: HistoryStoreDep
) -> ConversationDetail:
    return await history.get_conversation(principal=principal, conversation_id=conversation_id)


@router.patch("/{conversation_id}", response_model=ConversationSummary, responses=problem_responses(404))
async def rename_conversation(
    conversation_id: ConversationId, body: ConversationRename, principal: CurrentUser, history: HistoryStoreDep
) -> ConversationSummary:
    return await history.rename_conversation(principal=principal, conversation_id=conversation_id, title=body.title)


@router.delete("/{conversation_id}", status_code=204, response_class=Response, responses=problem_responses(404))
async def delete_conversation(
    conversation_id: ConversationId, principal: CurrentUser, history: HistoryStoreDep
) -> Response:
    await history.delete_conversation(principal=principal, conversation_id=conversation_id)
    return Response(status_code=204)
