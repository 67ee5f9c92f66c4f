"""The app `chimera dev` and the test suite serve: every function's routes in one process,
the page's configuration, the local sign-in route, and the page."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from chimera.api.app import ALL_FEATURES, create_app
from chimera.dev import routes
from chimera.dev.settings import LocalSettings

# The built page (`npm run build --prefix frontend`, which `make install` runs): frontend/src bundled.
FRONTEND_DIR = Path(__file__).resolve().parents[3] / "frontend" / "dist"


def create_local_app(settings: LocalSettings) -> FastAPI:
    app = create_app(
        settings,
        features=ALL_FEATURES,
        extra_routers=[routes.config_router, *([routes.router] if settings.chimera_dev_tokens else [])],
        static_dir=FRONTEND_DIR if settings.chimera_serve_frontend else None,
    )
    app.state.local_settings = settings
    return app
