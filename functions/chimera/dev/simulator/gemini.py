"""Gemini's generativelanguage API: streamGenerateContent, ListModels, and Google's error bodies.

Errors are ``{"error": {"code", "message", "status", "details"?}}``. A model Google does not serve,
retired or never existing, is a 404 NOT_FOUND naming the API version of the path; a 429 is
RESOURCE_EXHAUSTED with a QuotaFailure and, not always, a RetryInfo (checked 2026-11-25 against
reports quoting real responses, latest 2026-08).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from chimera.dev.simulator.answers import prompt_token_count
from chimera.dev.simulator.state import RateLimit, Scenario, SimulatorState, catalogue_spec, free_tier
from chimera.dev.simulator.streaming import Plan, paced, plan_answer, sse
from chimera.providers.gemini_provider import CONTINUE_INSTRUCTION

RATE_LIMITS_URL = "https://ai.google.dev/gemini-api/docs/rate-limits"
FALLBACK_LIMITS = {"rpm": 10, "rpd": 250, "tpm": 250_000, "tpd": 1_000_000}
TYPICAL_WAIT_S = 33.4


def _error(status: int, message: str, status_name: str, details: list[dict[str, Any]] | None = None) -> Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": status_name}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status)


def _has_key(request: Request) -> bool:
    return bool(request.headers.get("x-goog-api-key") or request.query_params.get("key"))


def _unregistered() -> Response:
    message = (
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."
    )
    return _error(403, message, "PERMISSION_DENIED")


def _api_version(request: Request) -> str:
    return request.url.path.strip("/").split("/")[0]  # "v1beta" or "v1"


def _not_found(model: str, api_version: str) -> Response:
    message = (
        f"models/{model} is not found for API version {api_version}, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their supported methods."
    )
    return _error(404, message, "NOT_FOUND")


# --- streamGenerateContent -----------------------------------------------------------------------


async def generate(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    model, _, method = request.path_params["target"].partition(":")
    if method != "streamGenerateContent":
        return _error(404, f"method {method or model} is not simulated", "NOT_FOUND")
    if not _has_key(request):
        return _unregistered()
    body = await request.json()
    contents = body.get("contents") or []
    texts = [_content_text(c) for c in contents]
    prompt, prefill = _question_and_prefill(contents)
    system = body.get("systemInstruction") or body.get("system_instruction")
    if system:
        texts.extend(str(p.get("text", "")) for p in system.get("parts", []))
    state.record("gemini", model, prompt)
    if state.model_status("gemini", model) != "served":
        return _not_found(model, _api_version(request))  # before any scripted scenario is used up
    spec = catalogue_spec("gemini", model)
    if spec is not None and prompt_token_count(texts) > spec.context_tokens:
        return _too_many_tokens(prompt_token_count(texts), spec.context_tokens)
    scenario = state.take_scenario("gemini")
    if scenario.status is not None:
        return _scripted_error(scenario, model)
    plan = plan_answer(state, scenario, prompt, prefill=prefill)
    return StreamingResponse(
        _stream(plan, model, prompt_token_count(texts), show_thoughts=_wants_thoughts(body)),
        media_type="text/event-stream",
    )


def _content_text(content: dict[str, Any]) -> str:
    return "".join(str(part.get("text", "")) for part in content.get("parts") or [])


def _question_and_prefill(contents: list[dict[str, Any]]) -> tuple[str, str | None]:
    """The question to answer, and the model's own cut-off reply when it is asked to continue it
    (contents ending on a model turn, or on a model turn and our request to carry on)."""
    turns = [(str(c.get("role", "user")), _content_text(c)) for c in contents]
    if len(turns) >= 2 and turns[-1] == ("user", CONTINUE_INSTRUCTION) and turns[-2][0] == "model":
        turns = turns[:-1]
    prefill = turns.pop()[1] if turns and turns[-1][0] == "model" else None
    questions = [text for role, text in turns if role == "user"]
    return (questions[-1] if questions else ""), prefill


def _wants_thoughts(body: dict[str, Any]) -> bool:
    """Thinking models think either way; the thoughts are streamed only when asked for."""
    # Like the real API (proto3 JSON), either spelling of a field is accepted: google-genai sends
    # {"generationConfig": {"thinkingConfig": {"include_thoughts": true}}}.
    generation = body.get("generationConfig") or body.get("generation_config") or {}
    thinking = generation.get("thinkingConfig") or generation.get("thinking_config") or {}
    return bool(thinking.get("includeThoughts") or thinking.get("include_thoughts"))


async def _stream(plan: Plan, model: str, prompt_tokens: int, *, show_thoughts: bool) -> AsyncIterator[bytes]:
    response_id = uuid.uuid4().hex[:22]
    last = len(plan.tokens) - 1
    sent = thoughts = 0

    def chunk(part: dict[str, Any], finish: bool) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = "STOP"
        usage: dict[str, Any] = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": sent,
            "totalTokenCount": prompt_tokens + sent + thoughts,
        }
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts  # billed, and not part of candidatesTokenCount
        payload = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": response_id}
        return sse(payload, sep="\r\n\r\n")

    async for piece in paced(plan):
        if piece.kind == "malformed":
            yield b'data: {"candidates": [{"content": \r\n\r\n'
            return
        if piece.kind == "reasoning":
            thoughts += 1
            if show_thoughts:
                yield chunk({"text": piece.text, "thought": True}, finish=False)
            continue
        sent += 1
        yield chunk({"text": piece.text}, finish=piece.index == last)
    if last < 0:
        yield chunk({"text": ""}, finish=True)


# --- Errors a scenario asks for ------------------------------------------------------------------

_QUOTAS: dict[RateLimit, tuple[str, str]] = {
    "rpm": ("generate_content_free_tier_requests", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
    "rpd": ("generate_content_free_tier_requests", "GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
    "tpm": ("generate_content_free_tier_input_token_count", "GenerateContentInputTokensPerModelPerMinute-FreeTier"),
    "tpd": ("generate_content_free_tier_input_token_count", "GenerateContentInputTokensPerModelPerDay-FreeTier"),
}
_SERVER_ERRORS = {
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
_CLIENT_ERRORS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
}


def _retry_info(seconds: float) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{int(seconds)}s"}


def quota_exceeded_body(model: str, kind: RateLimit, wait_s: float, *, retry_info: bool) -> dict[str, Any]:
    metric, quota_id = _QUOTAS[kind]
    limit = getattr(free_tier("gemini", model), kind) or FALLBACK_LIMITS[kind]
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more information "
        f"on this error, head to: {RATE_LIMITS_URL}. To monitor your current usage, head to: "
        f"https://ai.dev/rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/{metric}, "
        f"limit: {limit}, model: {model}\nPlease retry in {wait_s:g}s."
    )
    violation = {
        "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
        "quotaId": quota_id,
        "quotaDimensions": {"location": "global", "model": model},
        "quotaValue": str(limit),
    }
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_URL}],
        },
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]},
    ]
    if retry_info:
        details.append(_retry_info(wait_s))
    return {"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": details}}


def _too_many_tokens(requested: int, limit: int) -> Response:
    message = f"The input token count ({requested}) exceeds the maximum number of tokens allowed ({limit})."
    return _error(400, message, "INVALID_ARGUMENT")


def _scripted_error(scenario: Scenario, model: str) -> Response:
    status = scenario.status or 500
    if status == 400:
        return _too_many_tokens(1_048_577 + 100, 1_048_576)
    if status == 429:
        wait = TYPICAL_WAIT_S if scenario.retry_after_s is None else scenario.retry_after_s
        return JSONResponse(quota_exceeded_body(model, scenario.rate_limit, wait, retry_info=scenario.retry_info), 429)
    status_name, message = (_SERVER_ERRORS if status >= 500 else _CLIENT_ERRORS).get(
        status, ("UNKNOWN", f"simulated {status}")
    )
    details = [_retry_info(scenario.retry_after_s)] if scenario.retry_after_s is not None else None
    return _error(status, message, status_name, details)


# --- GET /v1beta/models (ListModels) -------------------------------------------------------------

# Listed but unable to chat: a client must check supportedGenerationMethods, not just the name.
LISTED_ONLY = {
    "gemini-embedding-001": {
        "version": "001",
        "displayName": "Gemini Embedding 001",
        "inputTokenLimit": 2048,
        "outputTokenLimit": 1,
        "supportedGenerationMethods": ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
    }
}
_CHAT_METHODS = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]


def _model_entry(model: str) -> dict[str, Any]:
    if model in LISTED_ONLY:
        return {"name": f"models/{model}", **LISTED_ONLY[model]}
    spec = catalogue_spec("gemini", model)
    words = model.split("-")
    return {
        "name": f"models/{model}",
        "version": words[1] if len(words) > 1 else "001",
        "displayName": " ".join(w.capitalize() for w in words),
        "description": f"Simulated {model}",
        "inputTokenLimit": spec.context_tokens if spec else 1_048_576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": _CHAT_METHODS,
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": True,
    }


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sim-offset:{offset}".encode()).decode()


def _offset_of(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    prefix, _, number = text.partition(":")
    return int(number) if prefix == "sim-offset" and number.isdigit() else None


async def list_models(request: Request) -> Response:
    state: SimulatorState = request.app.state.sim
    if not _has_key(request):
        return _unregistered()
    query = request.url.query
    state.record_listing("gemini", request.url.path + (f"?{query}" if query else ""))
    try:
        page_size = int(request.query_params.get("pageSize") or state.defaults.models_page_size)
    except ValueError:
        return _error(400, "Invalid value at 'page_size' (TYPE_INT32)", "INVALID_ARGUMENT")
    page_size = min(1000, page_size) if page_size > 0 else state.defaults.models_page_size
    token = request.query_params.get("pageToken")
    offset = _offset_of(token) if token else 0
    if offset is None:
        return _error(400, "Invalid page token.", "INVALID_ARGUMENT")
    # Our own models come last, so a client that reads only the first page misses them.
    listing = sorted(LISTED_ONLY) + state.served_models("gemini")
    page: dict[str, Any] = {"models": [_model_entry(m) for m in listing[offset : offset + page_size]]}
    if offset + page_size < len(listing):
        page["nextPageToken"] = _page_token(offset + page_size)
    return JSONResponse(page)
