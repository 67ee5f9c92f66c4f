"""The FastAPI application factory used by `chimera dev`, the tests and the chat Lambda."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from chimera.api import routes_chat, routes_dev, routes_health, routes_history, routes_usage
from chimera.api.body_limit import BodyLimitMiddleware
from chimera.api.problems import install_problem_handlers
from chimera.runtime import Runtime
from chimera.settings import Settings, get_settings

FRONTEND_DIR = Path(__file__).resolve().parents[3] / "frontend"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(title="Chimera", lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json")
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    if settings.chimera_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.chimera_cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
            max_age=600,
        )
    app.include_router(routes_health.router)
    app.include_router(routes_chat.router)
    app.include_router(routes_history.router)
    app.include_router(routes_usage.router)
    if settings.chimera_dev_tokens:
        app.include_router(routes_dev.router)
    if settings.chimera_serve_frontend and FRONTEND_DIR.is_dir():
        app.mount("/", StaticFiles(directory=FRONTEND_DIR, html=True), name="frontend")
    return app
