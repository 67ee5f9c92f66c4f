"""FastAPI dependencies, as ``Annotated`` aliases so routes read like their signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from chimera.models import Principal
from chimera.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def current_principal(runtime: RuntimeDep) -> Principal:
    # Until authentication lands, every request acts as the configured local person.
    return Principal(user_id=runtime.settings.chimera_local_user_id)


CurrentUser = Annotated[Principal, Depends(current_principal)]
