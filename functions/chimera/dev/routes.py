"""POST /api/dev/token: an access token for the local person. Mounted only by `chimera dev`."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from chimera.dev.local_identity import TOKEN_TTL_S, issue_token
from chimera.dev.settings import LocalSettings

router = APIRouter(tags=["local development"])


class DevToken(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    access_token: str
    user_id: str
    expires_at: int


@router.post("/api/dev/token", response_model=DevToken)
async def dev_token(request: Request) -> DevToken:
    settings: LocalSettings = request.app.state.local_settings
    assert settings.supabase_jwt_secret is not None  # chimera dev always sets the local secret
    user_id = settings.chimera_local_user_id
    token = issue_token(settings.supabase_jwt_secret.get_secret_value(), user_id, audience=settings.jwt_audience)
    return DevToken(access_token=token, user_id=user_id, expires_at=int(time.time()) + TOKEN_TTL_S)
