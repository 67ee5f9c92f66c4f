"""Groq's OpenAI-compatible API: streaming chat completions, the model list, and Groq's errors.

Error bodies follow what Groq sends (checked 2026-11-25 against reports quoting real responses):
``{"error": {"message", "type", "code"}}``, 400 ``model_decommissioned`` for a shut-down model,
404 ``model_not_found`` for an unknown one, 429 ``rate_limit_exceeded`` with ``retry-after``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from chimera.dev.simulator.answers import prompt_token_count
from chimera.dev.simulator.state import RateLimit, Scenario, SimulatorState, catalogue_spec, free_tier
from chimera.dev.simulator.streaming import Plan, go_duration, paced, plan_answer, sse

ORGANIZATION = "org_01simu1atedorgan1zat10n0"
DEPRECATIONS_URL = "https://console.groq.com/docs/deprecations"
BILLING_URL = "https://console.groq.com/settings/billing"
# Free-plan limits for a model the catalogue does not describe (Groq's gpt-oss numbers).
FALLBACK_LIMITS = {"rpm": 30, "rpd": 1000, "tpm": 8000, "tpd": 200_000}


def _error(status: int, message: str, kind: str, code: str | None, headers: dict[str, str] | None = None) -> Response:
    error: dict[str, Any] = {"message": message, "type": kind}
    if code is not None:
        error["code"] = code
    return JSONResponse({"error": error}, status, headers=headers)


def _unauthorized() -> Response:
    return _error(401, "Invalid API Key", "invalid_request_error", "invalid_api_key")


def _has_key(request: Request) -> bool:
    return request.headers.get("authorization", "").startswith("Bearer ")


# --- Chat completions ----------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    """A message's text: a plain string, or the text parts of an OpenAI content list."""
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


async def chat(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    if not _has_key(request):
        return _unauthorized()
    body = await request.json()
    model = str(body.get("model"))
    messages = body.get("messages") or []
    # A final assistant message is a prefill: the model continues it (the router's mid-answer fallback).
    prefill = _text_of(messages[-1].get("content")) if messages and messages[-1].get("role") == "assistant" else None
    questions = [m for m in messages if m.get("role") == "user"]
    prompt = _text_of(questions[-1].get("content")) if questions else ""
    prompt_tokens = prompt_token_count([_text_of(m.get("content")) for m in messages])
    state.record("groq", model, prompt)
    # A model Groq does not serve is refused before any scripted scenario is used up.
    refusal = _model_refusal(state, model)
    if refusal is not None:
        return refusal
    too_large = _size_refusal(model, prompt_tokens)  # what the model cannot take, before anything else
    if too_large is not None:
        return too_large
    scenario = state.take_scenario("groq")
    if scenario.status is not None:
        return _scripted_error(scenario, model, prompt_tokens)
    plan = plan_answer(state, scenario, prompt, prefill=prefill)
    return StreamingResponse(
        _stream(plan, model, prompt_tokens, hidden_reasoning=_hides_reasoning(body)),
        media_type="text/event-stream",
        headers=_quota_headers(model, prompt_tokens, scenario.remaining_requests),
    )


def _model_refusal(state: SimulatorState, model: str) -> Response | None:
    status = state.model_status("groq", model)
    if status == "retired":
        message = (
            f"The model `{model}` has been decommissioned and is no longer supported. Please refer to "
            f"{DEPRECATIONS_URL} for a recommendation on which model to use instead."
        )
        return _error(400, message, "invalid_request_error", "model_decommissioned")
    if status == "unknown":
        message = f"The model `{model}` does not exist or you do not have access to it."
        return _error(404, message, "invalid_request_error", "model_not_found")
    return None


def _hides_reasoning(body: dict[str, Any]) -> bool:
    """Groq streams gpt-oss reasoning by default; these keep it out of the stream (still billed)."""
    return body.get("include_reasoning") is False or body.get("reasoning_format") == "hidden"


async def _stream(plan: Plan, model: str, prompt_tokens: int, *, hidden_reasoning: bool) -> AsyncIterator[bytes]:
    chunk_id = f"chatcmpl-{uuid.uuid4()}"
    request_id = f"req_{uuid.uuid4().hex[:26]}"
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, x_groq: dict[str, Any] | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_5f2d9c1a3e",
            "service_tier": "on_demand",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if x_groq is not None:
            payload["x_groq"] = x_groq  # only on the first and the last chunk, as Groq does
        return sse(payload)

    yield chunk({"role": "assistant", "content": ""}, x_groq={"id": request_id})
    reasoning = sent = 0
    async for piece in paced(plan):
        if piece.kind == "malformed":
            yield b'data: {"id":"broken","choices":[{"delta":\n\n'
            return
        if piece.kind == "reasoning":
            reasoning += 1
            if not hidden_reasoning:
                yield chunk({"reasoning": piece.text})
            continue
        sent += 1
        yield chunk({"content": piece.text})
    yield chunk({}, finish="stop", x_groq={"id": request_id, "usage": _usage(prompt_tokens, sent, reasoning)})
    yield b"data: [DONE]\n\n"


def _usage(prompt_tokens: int, sent: int, reasoning: int) -> dict[str, Any]:
    """Reasoning is billed as output, so it counts in completion_tokens even when hidden."""
    usage: dict[str, Any] = {
        "queue_time": 0.001,
        "prompt_tokens": prompt_tokens,
        "prompt_time": 0.001,
        "completion_tokens": sent + reasoning,
        "completion_time": 0.01,
        "total_tokens": prompt_tokens + sent + reasoning,
        "total_time": 0.012,
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


# --- Rate limits ---------------------------------------------------------------------------------


def _limits(model: str) -> dict[str, int]:
    tier = free_tier("groq", model)
    return {kind: getattr(tier, kind) or fallback for kind, fallback in FALLBACK_LIMITS.items()}


def _quota_headers(model: str, prompt_tokens: int, remaining_requests: int | None) -> dict[str, str]:
    """Groq's headers on every answer: requests are counted per day, tokens per minute."""
    limits = _limits(model)
    rpd, tpm = limits["rpd"], limits["tpm"]
    remaining = rpd - 1 if remaining_requests is None else remaining_requests
    return {
        "x-ratelimit-limit-requests": str(rpd),
        "x-ratelimit-remaining-requests": str(remaining),
        # The bucket refills evenly over the day: the reset is the time to win back what was used.
        "x-ratelimit-reset-requests": go_duration((rpd - remaining) * 86400 / rpd),
        "x-ratelimit-limit-tokens": str(tpm),
        "x-ratelimit-remaining-tokens": str(max(0, tpm - prompt_tokens)),
        "x-ratelimit-reset-tokens": go_duration(min(prompt_tokens, tpm) * 60 / tpm),
        "x-groq-region": "simulated",
    }


# Typical waits when the scenario names none: a minute's bucket refills in seconds, a day's slowly.
TYPICAL_WAIT_S: dict[RateLimit, float] = {"tpm": 2.25, "rpm": 2.0, "tpd": 578.016, "rpd": 86.4}
_LIMIT_NAMES: dict[RateLimit, str] = {
    "tpm": "tokens per minute (TPM)",
    "tpd": "tokens per day (TPD)",
    "rpm": "requests per minute (RPM)",
    "rpd": "requests per day (RPD)",
}


def rate_limit_message(model: str, kind: RateLimit, limit: int, requested: int, wait_s: float) -> str:
    used = max(0, limit - requested // 2) if kind in ("tpm", "tpd") else limit
    need = "tokens" if kind in ("tpm", "tpd") else "requests"
    return (
        f"Rate limit reached for model `{model}` in organization `{ORGANIZATION}` service tier `on_demand` "
        f"on {_LIMIT_NAMES[kind]}: Limit {limit}, Used {used}, Requested {requested}. "
        f"Please try again in {go_duration(wait_s)}. Need more {need}? Upgrade to Dev Tier today at {BILLING_URL}"
    )


def _rate_limited(scenario: Scenario, model: str, prompt_tokens: int) -> Response:
    kind = scenario.rate_limit
    wait = TYPICAL_WAIT_S[kind] if scenario.retry_after_s is None else scenario.retry_after_s
    limit = _limits(model)[kind]
    requested = prompt_tokens if kind in ("tpm", "tpd") else 1
    headers = _quota_headers(model, prompt_tokens, 0 if kind == "rpd" else None)
    if kind == "tpm":
        headers["x-ratelimit-remaining-tokens"] = "0"
        headers["x-ratelimit-reset-tokens"] = go_duration(wait)
    headers["retry-after"] = str(math.ceil(wait))  # whole seconds, only ever on a 429
    message = rate_limit_message(model, kind, limit, requested, wait)
    kind_type = "tokens" if kind in ("tpm", "tpd") else "requests"
    return _error(429, message, kind_type, "rate_limit_exceeded", headers)


# Not confirmed against a captured Groq body: Groq's 5xx follow the OpenAI error shape.
_SERVER_ERRORS = {
    500: ("Internal Server Error", "internal_server_error"),
    502: ("Bad Gateway", "internal_server_error"),
    503: ("Service Unavailable", "internal_server_error"),
}


def _size_refusal(model: str, prompt_tokens: int) -> Response | None:
    """Groq refuses a request larger than the model's tokens-per-minute limit with 413 (on the free
    plan, 8,000 for gpt-oss: a long conversation never fits), and one over its context with 400."""
    spec = catalogue_spec("groq", model)
    if spec is not None and prompt_tokens > spec.context_tokens:
        return _context_too_long()
    limit = free_tier("groq", model).tpm
    if limit is not None and prompt_tokens > limit:
        return _request_too_large(model, limit, prompt_tokens)
    return None


def _request_too_large(model: str, limit: int, requested: int) -> Response:
    message = (
        f"Request too large for model `{model}` in organization `{ORGANIZATION}` service tier `on_demand` on "
        f"tokens per minute (TPM): Limit {limit}, Requested {requested}, please reduce your message size and try "
        "again. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing"
    )
    return _error(413, message, "tokens", "rate_limit_exceeded")


def _context_too_long() -> Response:
    body = {
        "error": {
            "message": "Please reduce the length of the messages or completion.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }
    return JSONResponse(body, 400)


def _scripted_error(scenario: Scenario, model: str, prompt_tokens: int) -> Response:
    status = scenario.status or 500
    if status == 429:
        return _rate_limited(scenario, model, prompt_tokens)
    if status == 413:
        return _request_too_large(model, free_tier("groq", model).tpm or 8000, prompt_tokens + 8000)
    if status == 400:
        return _context_too_long()
    headers = {"retry-after": str(math.ceil(scenario.retry_after_s))} if scenario.retry_after_s is not None else None
    if status >= 500:
        message, kind = _SERVER_ERRORS.get(status, ("Internal Server Error", "internal_server_error"))
        return _error(status, message, kind, None, headers)
    if status == 401:
        return _unauthorized()
    return _error(status, "simulated request error", "invalid_request_error", None, headers)


# --- GET /openai/v1/models -----------------------------------------------------------------------

_OWNERS = {"openai/": "OpenAI", "groq/": "Groq", "qwen/": "Alibaba Cloud", "meta-llama/": "Meta"}
_MAX_COMPLETION = {"openai/gpt-oss-120b": 65536, "openai/gpt-oss-20b": 65536, "groq/compound": 8192}


def _model_entry(model: str) -> dict[str, Any]:
    spec = catalogue_spec("groq", model)
    return {
        "id": model,
        "object": "model",
        "created": 1754408224,
        "owned_by": next((owner for prefix, owner in _OWNERS.items() if model.startswith(prefix)), "Groq"),
        "active": True,
        "context_window": spec.context_tokens if spec else 131072,
        "public_apps": None,
        "max_completion_tokens": _MAX_COMPLETION.get(model, 8192),
    }


async def list_models(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    if not _has_key(request):
        return _unauthorized()
    state.record_listing("groq", str(request.url.path))
    return JSONResponse({"object": "list", "data": [_model_entry(m) for m in state.served_models("groq")]})
