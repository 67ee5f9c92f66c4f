"""The FastAPI application factory: every Lambda, `chimera dev` and the tests build their app here.

Each deployed function mounts only its own routes (``features``) and builds only what they use:
the chat function a ``ChatSettings`` runtime with providers, history and usage a database and a
token verifier. Local tooling adds its own routes and the page through ``extra_routers`` and
``static_dir``; nothing here imports ``chimera.dev``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from chimera.api import routes_chat, routes_health, routes_history, routes_models, routes_usage
from chimera.api.body_limit import BodyLimitMiddleware
from chimera.api.correlation import CorrelationIdMiddleware
from chimera.api.origin_guard import OriginGuardMiddleware
from chimera.api.problems import install_problem_handlers, problem_responses
from chimera.errors import NotConfigured
from chimera.runtime import RuntimeHolder
from chimera.settings import CoreSettings

logger = logging.getLogger(__name__)

Feature = Literal["chat", "history", "usage"]
ALL_FEATURES: frozenset[Feature] = frozenset({"chat", "history", "usage"})
# Every route can answer these (the origin check, body limit, validation, not ready), and every
# route but health and models also 401 (no sign-in needed there).
OPEN_PROBLEMS = problem_responses(403, 413, 422, 500, 503)
COMMON_PROBLEMS = OPEN_PROBLEMS | problem_responses(401)


def create_app(
    settings: CoreSettings,
    *,
    features: frozenset[Feature],
    extra_routers: Iterable[APIRouter] = (),
    static_dir: Path | None = None,
) -> FastAPI:
    """The app with the routes of ``features``; each Lambda mounts only its own."""
    holder = RuntimeHolder(settings, with_chat="chat" in features)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Under uvicorn (a laptop, the chat Lambda) start everything before the first request.
        # Mangum runs no lifespan per invocation we want, so there the runtime starts lazily.
        try:
            await holder.get()
        except NotConfigured as exc:  # serve 503s that say what is missing, rather than crash
            logger.error("not configured yet", extra={"reason": exc.sentence})
        try:
            yield
        finally:
            await holder.close()

    app = FastAPI(
        title="Chimera",
        summary="Streaming AI chat: Groq first, Gemini as fallback, history and usage in Postgres.",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.state.runtime_holder = holder
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    if "chat" in features:  # Mangum handlers get theirs from inject_lambda_context
        app.add_middleware(CorrelationIdMiddleware)
    if settings.chimera_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.chimera_cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
            max_age=600,
        )
    app.add_middleware(OriginGuardMiddleware, holder=holder)  # outermost: strangers reach nothing
    if "chat" in features:
        app.include_router(routes_health.router, responses=OPEN_PROBLEMS)
        app.include_router(routes_models.router, responses=OPEN_PROBLEMS)
        app.include_router(routes_chat.router, responses=COMMON_PROBLEMS)
    if "history" in features:
        app.include_router(routes_history.router, responses=COMMON_PROBLEMS)
    if "usage" in features:
        app.include_router(routes_usage.router, responses=COMMON_PROBLEMS)
    for router in extra_routers:
        app.include_router(router, responses=COMMON_PROBLEMS)
    if static_dir is not None and static_dir.is_dir():
        app.mount("/", PageFiles(directory=static_dir, html=True), name="frontend")
    return app


class PageFiles(StaticFiles):
    """The page's files, which never answer for /api: an unknown API path is a 404 problem, and a
    known one with another method a 405, not the page's index.html or its 405."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == "/api" or scope["path"].startswith("/api/")):
            raise HTTPException(404)
        await super().__call__(scope, receive, send)
