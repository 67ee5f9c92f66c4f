"""The local app's own routes: the page's configuration, and the local person's token.

``GET /config.json`` tells the page how people sign in; in AWS the same file is deployed next to
the page (infra/constructs/web.py). ``POST /api/dev/token`` is mounted only with dev tokens on.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chimera.dev.local_identity import TOKEN_TTL_S, issue_token
from chimera.dev.settings import LocalSettings

router = APIRouter(tags=["local development"])
config_router = APIRouter(tags=["local development"])


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class DevToken(_Camel):
    access_token: str
    user_id: str
    expires_at: int


class LocalAuth(_Camel):
    """The local person: the page asks POST /api/dev/token, no form."""

    provider: Literal["local"] = "local"


class SupabaseAuth(_Camel):
    """Supabase Auth through supabase-js: the project URL and its public key."""

    provider: Literal["supabase"] = "supabase"
    url: str
    publishable_key: str
    magic_link: bool = True


class TokenAuth(_Camel):
    """Neither: the person pastes an access token they got elsewhere."""

    provider: Literal["token"] = "token"


AuthConfig = Annotated[LocalAuth | SupabaseAuth | TokenAuth, Field(discriminator="provider")]


class PageConfig(BaseModel):
    auth: AuthConfig


def page_config(settings: LocalSettings) -> PageConfig:
    if settings.supabase_url and settings.supabase_publishable_key:
        return PageConfig(
            auth=SupabaseAuth(
                url=settings.supabase_url.rstrip("/"),
                publishable_key=settings.supabase_publishable_key,
                magic_link=settings.supabase_magic_link,
            )
        )
    if settings.chimera_dev_tokens and not settings.supabase_url:
        return PageConfig(auth=LocalAuth())
    return PageConfig(auth=TokenAuth())


@config_router.get("/config.json", response_model=PageConfig, response_model_by_alias=True)
async def config_json(request: Request, response: Response) -> PageConfig:
    response.headers["Cache-Control"] = "no-cache"  # a changed setting shows on the next load
    settings: LocalSettings = request.app.state.local_settings
    return page_config(settings)


@router.post("/api/dev/token", response_model=DevToken)
async def dev_token(request: Request) -> DevToken:
    settings: LocalSettings = request.app.state.local_settings
    assert settings.supabase_jwt_secret is not None  # chimera dev always sets the local secret
    user_id = settings.chimera_local_user_id
    token = issue_token(settings.supabase_jwt_secret.get_secret_value(), user_id, audience=settings.jwt_audience)
    return DevToken(access_token=token, user_id=user_id, expires_at=int(time.time()) + TOKEN_TTL_S)
