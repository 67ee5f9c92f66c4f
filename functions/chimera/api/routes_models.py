"""GET /api/models: the choices a person has, with labels, and whether each can answer now.

No sign-in needed: the page shows the picker before anything else, and nothing here is private.
"""

from __future__ import annotations

import time

from fastapi import APIRouter

from chimera.api.deps import ChatDep
from chimera.api.problems import problem_responses
from chimera.models import ModelChoicePublic, ModelList
from chimera.providers.catalogue import ModelSpec
from chimera.providers.choose import auto_description
from chimera.providers.health import ModelHealth

router = APIRouter(tags=["models"])


@router.get("/api/models", response_model=ModelList, responses=problem_responses(503))
async def list_models(chat: ChatDep) -> ModelList:
    now = time.time()
    choices = []
    for spec in chat.catalogue.models:
        health = await chat.health.get(spec.health_key)
        choices.append(_choice(spec, health, configured=spec.provider in chat.providers, now=now))
    auto = ModelChoicePublic(
        id="auto",
        label="Auto",
        description=auto_description(chat.catalogue),
        available=any(c.available for c in choices),
        status="ok" if any(c.available for c in choices) else "unavailable",
    )
    return ModelList(default="auto", models=[auto, *choices])


def _choice(spec: ModelSpec, health: ModelHealth, *, configured: bool, now: float) -> ModelChoicePublic:
    if not configured:
        status, retry_in = "not-configured", None
    elif health.gone:
        status, retry_in = "retired", None
    elif not health.available(now):
        status, retry_in = "resting", max(1, round(health.retry_in_s(now)))
    else:
        status, retry_in = "ok", None
    return ModelChoicePublic(
        id=spec.key,
        label=spec.label,
        description=spec.description,
        provider=spec.provider,
        provider_model=spec.provider_model,
        context_tokens=spec.context_tokens,
        available=status == "ok",
        status=status,
        retry_in_seconds=retry_in,
    )
