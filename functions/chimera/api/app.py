"""The FastAPI application factory used by `chimera dev`, the tests and every Lambda."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from chimera.api import routes_chat, routes_dev, routes_health, routes_history, routes_usage
from chimera.api.body_limit import BodyLimitMiddleware
from chimera.api.correlation import CorrelationIdMiddleware
from chimera.api.problems import install_problem_handlers
from chimera.runtime import RuntimeHolder
from chimera.settings import Settings, get_settings

Feature = Literal["chat", "history", "usage"]
ALL_FEATURES: frozenset[Feature] = frozenset({"chat", "history", "usage"})
FRONTEND_DIR = Path(__file__).resolve().parents[3] / "frontend"


def create_app(settings: Settings | None = None, *, features: frozenset[Feature] = ALL_FEATURES) -> FastAPI:
    """The app with the routes of ``features``; each Lambda mounts only its own."""
    settings = settings or get_settings()
    holder = RuntimeHolder(settings, with_providers="chat" in features)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Under uvicorn (a laptop, the chat Lambda) start everything before the first request.
        # Mangum runs no lifespan per invocation we want, so there the runtime starts lazily.
        await holder.get()
        try:
            yield
        finally:
            await holder.close()

    app = FastAPI(title="Chimera", lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json")
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
    if "chat" in features:
        app.include_router(routes_health.router)
        app.include_router(routes_chat.router)
    if "history" in features:
        app.include_router(routes_history.router)
    if "usage" in features:
        app.include_router(routes_usage.router)
    if settings.chimera_dev_tokens:
        app.include_router(routes_dev.router)
    app.include_router(routes_health.unknown_api_router)  # after every real route
    if settings.chimera_serve_frontend and FRONTEND_DIR.is_dir():
        app.mount("/", StaticFiles(directory=FRONTEND_DIR, html=True), name="frontend")
    return app
