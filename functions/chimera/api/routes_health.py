"""GET /api/health: 200 once this process can serve a chat (database reachable, a provider set)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from chimera.api.deps import RuntimeDep
from chimera.api.problems import problem

router = APIRouter()


@router.get("/api/health")
async def health(runtime: RuntimeDep) -> JSONResponse:
    try:
        async with runtime.pool.connection(timeout=5) as conn:
            await conn.execute("select 1")
    except Exception:
        return problem(503, "Not ready", "The database is not reachable yet.")
    if not runtime.providers:
        return problem(
            503, "Not ready", "No AI provider is configured: set GROQ_API_KEY or GOOGLE_GENERATIVE_AI_API_KEY."
        )
    body: dict[str, Any] = {
        "status": "ok",
        "providers": sorted(runtime.providers),
        "simulated": runtime.settings.chimera_simulated_providers,
    }
    return JSONResponse(body)


unknown_api_router = APIRouter(include_in_schema=False)


@unknown_api_router.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def unknown_api_route(path: str) -> JSONResponse:
    """An unknown /api path is a 404 problem, never the page's static files (or their 405)."""
    return problem(404, "Not found", f"There is no API route /api/{path}.")
