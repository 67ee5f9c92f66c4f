"""FastAPI dependencies, as ``Annotated`` aliases so routes read like their signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chimera import words
from chimera.auth import AuthError
from chimera.models import CONVERSATION_ID_PATTERN, Principal
from chimera.runtime import ChatParts, Runtime, RuntimeHolder
from chimera.store.history_store import PostgresHistoryStore
from chimera.store.usage_store import PostgresUsageStore


async def get_runtime(request: Request) -> Runtime:
    holder: RuntimeHolder = request.app.state.runtime_holder
    return await holder.get()  # NotConfigured becomes a 503 problem with its sentence


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_chat(runtime: RuntimeDep) -> ChatParts:
    return runtime.chat


ChatDep = Annotated[ChatParts, Depends(get_chat)]


async def get_history_store(runtime: RuntimeDep) -> PostgresHistoryStore:
    return PostgresHistoryStore(runtime.pool, stale_after_s=runtime.settings.answer_stale_after_s)


HistoryStoreDep = Annotated[PostgresHistoryStore, Depends(get_history_store)]


async def get_usage_store(runtime: RuntimeDep) -> PostgresUsageStore:
    return PostgresUsageStore(runtime.pool)


UsageStoreDep = Annotated[PostgresUsageStore, Depends(get_usage_store)]

_bearer = HTTPBearer(auto_error=False, description="A Supabase access token")


async def current_principal(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise AuthError(words.TOKEN_MISSING, missing=True)
    return await runtime.verifier.verify(credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]

# A conversation's id in a route's path: what we hand out, and nothing odd.
ConversationId = Annotated[str, Path(max_length=64, pattern=CONVERSATION_ID_PATTERN)]
