"""GET /api/health: 200 once this process can serve a chat; 503 with the reason until then."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from chimera import words
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
        return problem(503, words.NOT_READY_TITLE, words.DATABASE_NOT_YET)
    return HealthReport(
        status="ok", providers=sorted(chat.providers), simulated=chat.settings.chimera_simulated_providers
    )
