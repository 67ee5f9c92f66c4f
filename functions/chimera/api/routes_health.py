"""GET /api/health: 200 once this process can serve a chat; 503 with the reason until then."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.routing import Match, Mount

from chimera.api.deps import ChatDep, RuntimeDep
from chimera.api.problems import problem, problem_responses
from chimera.models import HealthReport

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=HealthReport, responses=problem_responses(503))
async def health(runtime: RuntimeDep, chat: ChatDep) -> HealthReport | JSONResponse:
    # A function whose secrets are not filled in never gets here: its 503 names what is missing.
    try:
        async with runtime.pool.connection(timeout=5) as conn:
            await conn.execute("select 1")
    except Exception:
        return problem(503, "Not ready", "The database is not reachable yet.")
    return HealthReport(
        status="ok", providers=sorted(chat.providers), simulated=chat.settings.chimera_simulated_providers
    )


unknown_api_router = APIRouter(include_in_schema=False)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@unknown_api_router.api_route("/api/{path:path}", methods=[*METHODS, "HEAD", "OPTIONS"])
async def unknown_api_route(path: str, request: Request) -> JSONResponse:
    """An unknown /api path is a 404 problem, never the page's static files (or their 405).

    Starlette prefers this full match over a real route whose path matches with another method,
    so that case is answered here too: 405 with every method the path does allow.
    """
    allowed = [method for method in METHODS if _serves(request, method)]
    if allowed:
        allowed += ["HEAD"] if "GET" in allowed else []
        response = problem(405, "Method not allowed", f"/api/{path} answers {', '.join(allowed)} only.")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return problem(404, "Not found", f"There is no API route /api/{path}.")


def _serves(request: Request, method: str) -> bool:
    """Whether a real API route (not this one, not the page) answers this path with ``method``."""
    probe = {**request.scope, "method": method}
    for route in request.app.router.routes:
        if isinstance(route, Mount) or getattr(route, "original_router", None) is unknown_api_router:
            continue
        if route.matches(probe)[0] == Match.FULL:
            return True
    return False
