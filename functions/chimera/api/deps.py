"""FastAPI dependencies, as ``Annotated`` aliases so routes read like their signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chimera.auth import AuthError
from chimera.models import Principal
from chimera.runtime import Runtime, RuntimeHolder


async def get_runtime(request: Request) -> Runtime:
    holder: RuntimeHolder = request.app.state.runtime_holder
    return await holder.get()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

_bearer = HTTPBearer(auto_error=False, description="A Supabase access token")


async def current_principal(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise AuthError("Please sign in: this request needs an access token (Authorization: Bearer …).", missing=True)
    return await runtime.verifier.verify(credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]
