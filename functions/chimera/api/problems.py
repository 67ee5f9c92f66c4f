"""Every error leaves as ``application/problem+json`` (RFC 9457) with a sentence a person can act on."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from chimera import words
from chimera.auth import AuthError, AuthUnavailable
from chimera.errors import (
    ConversationBusy,
    ConversationNotFound,
    InvalidCursor,
    NotConfigured,
    NothingToRegenerate,
    RateLimited,
    StoreUnavailable,
)

PROBLEM = "application/problem+json"


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error on every route."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="a sentence that says what to do")
    errors: list[FieldProblem] | None = Field(default=None, description="422: one entry per field to fix")
    retryAfterSeconds: int | None = Field(default=None, description="429: seconds until a retry is welcome")  # noqa: N815


_MEANINGS = {
    400: "The request cannot be used (for example a cursor that was not ours)",
    401: "Not signed in, or the access token is not valid",
    403: "The request did not come through the site's own address",
    404: "Not found (or not yours)",
    409: "The conversation is still answering an earlier message",
    413: "The request body is larger than 256 KB",
    422: "A field is missing or not valid",
    429: "Too many requests; Retry-After says when to try again",
    500: "Something went wrong on our side",
    503: "Not ready: a secret is not filled in, or the database is not reachable",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these statuses, each an ``application/problem+json`` body."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {"description": _MEANINGS[status], "content": {PROBLEM: {"schema": schema}}, "model": Problem}
        for status in statuses
    }


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field_message(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in words.FIELD_FAULTS:
        return words.FIELD_FAULTS[kind]
    if kind == "string_too_long":
        return words.field_too_long(ctx.get("max_length"))
    if kind == "literal_error":
        return words.field_one_of(ctx.get("expected"))
    if kind == "value_error":  # our validators' own words (chimera.models)
        return str(ctx.get("error", error.get("msg", words.FIELD_NOT_VALID)))
    return str(error.get("msg", words.FIELD_NOT_VALID))


# Where a field sits, not counting the body itself or which of POST /api/chat's shapes it was read as.
_NOT_FIELDS = {"body", "chimera", "ai-sdk"}


def _field_name(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in _NOT_FIELDS]
    return ".".join(location) or "body"


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"field": _field_name(e), "message": _field_message(e)} for e in exc.errors()]
    detail = words.fix_fields([f"{e['field']} {e['message']}" for e in errors])
    return problem(422, words.NOT_VALID_TITLE, detail, errors=errors)


async def _not_found(_: Request, exc: ConversationNotFound) -> JSONResponse:
    return problem(404, words.NOT_FOUND_TITLE, words.CONVERSATION_NOT_FOUND)


async def _busy(_: Request, exc: ConversationBusy) -> JSONResponse:
    return problem(409, words.STILL_ANSWERING_TITLE, words.STILL_ANSWERING)


async def _nothing_to_regenerate(_: Request, exc: NothingToRegenerate) -> JSONResponse:
    return problem(409, words.NOTHING_TO_REGENERATE_TITLE, words.NOTHING_TO_REGENERATE)


async def _store_down(_: Request, exc: StoreUnavailable) -> JSONResponse:
    return problem(503, words.UNAVAILABLE_TITLE, words.DATABASE_DOWN)


async def _unauthenticated(_: Request, exc: AuthError) -> JSONResponse:
    response = problem(401, words.NOT_SIGNED_IN_TITLE, exc.detail)
    # RFC 6750: no error code when credentials were simply missing.
    challenge = 'Bearer realm="chimera"'
    if not exc.missing:
        challenge += f', error="invalid_token", error_description="{exc.detail}"'
    response.headers["WWW-Authenticate"] = challenge
    return response


async def _not_configured(_: Request, exc: NotConfigured) -> JSONResponse:
    response = problem(503, words.NOT_CONFIGURED_TITLE, exc.sentence)
    response.headers["Retry-After"] = "15"
    return response


async def _auth_down(_: Request, exc: AuthUnavailable) -> JSONResponse:
    return problem(503, words.UNAVAILABLE_TITLE, words.SIGN_IN_KEYS_UNAVAILABLE)


async def _bad_cursor(_: Request, exc: InvalidCursor) -> JSONResponse:
    return problem(400, words.BAD_CURSOR_TITLE, words.BAD_CURSOR)


async def _rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
    seconds = max(1, math.ceil(exc.retry_after_s))
    response = problem(429, *_limit_words(exc, seconds), retryAfterSeconds=seconds)
    response.headers["Retry-After"] = str(seconds)
    return response


def _limit_words(exc: RateLimited, seconds: int) -> tuple[str, str]:
    """The title and the sentence for a limit reached: which limit, and what to do."""
    if exc.scope == "tokens":
        return words.TOKENS_LIMIT_TITLE, words.tokens_limit(exc.limit, seconds)
    return words.MESSAGES_LIMIT_TITLE, words.messages_limit(exc.scope, exc.limit, seconds)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    # Starlette logs the traceback; the person gets the one problem shape and no internals.
    return problem(500, words.WENT_WRONG_TITLE, words.SERVER_FAULT)


# FastAPI's words when a body cannot even be decoded (bytes that are not UTF-8 JSON).
_UNPARSEABLE_BODY = "There was an error parsing the body"


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.detail == _UNPARSEABLE_BODY:  # the same answer as any other bad JSON
        return problem(422, words.NOT_VALID_TITLE, words.BODY_NOT_JSON)
    if exc.status_code in (404, 405) and exc.detail in ("Not Found", "Method Not Allowed"):  # routing's own
        return _no_route(request)
    detail = exc.detail if isinstance(exc.detail, str) else words.NOT_HANDLED
    response = problem(exc.status_code, _title(exc.status_code), detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _title(status: int) -> str:
    """A route's own HTTPException (a 422 from the usage route) titled like ours."""
    if status == 422:
        return words.NOT_VALID_TITLE
    return HTTPStatus(status).phrase if status in HTTPStatus else words.WENT_WRONG_TITLE


def _no_route(request: Request) -> JSONResponse:
    """404 for a path no route has; 405 with every method it answers for one it has.

    The methods come from the app's OpenAPI document, which lists each path with all its routes
    (Starlette's own Allow names only one route's, and the page's files answer every path).
    """
    path = request.url.path
    allowed = sorted(
        method.upper()
        for template, operations in request.app.openapi().get("paths", {}).items()
        if _template(template).fullmatch(path)
        for method in operations
    )
    if not allowed:
        return problem(404, words.NOT_FOUND_TITLE, words.no_route(path))
    response = problem(405, words.NOT_ALLOWED_TITLE, words.method_not_allowed(path, request.method, allowed))
    response.headers["Allow"] = ", ".join(allowed)
    return response


@lru_cache(maxsize=64)
def _template(path: str) -> re.Pattern[str]:
    """``/api/conversations/{id}`` as a pattern for one path segment per parameter."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(ConversationNotFound, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(ConversationBusy, _busy)  # type: ignore[arg-type]
    app.add_exception_handler(NothingToRegenerate, _nothing_to_regenerate)  # type: ignore[arg-type]
    app.add_exception_handler(StoreUnavailable, _store_down)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(AuthError, _unauthenticated)  # type: ignore[arg-type]
    app.add_exception_handler(AuthUnavailable, _auth_down)  # type: ignore[arg-type]
    app.add_exception_handler(NotConfigured, _not_configured)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidCursor, _bad_cursor)  # type: ignore[arg-type]
    app.add_exception_handler(RateLimited, _rate_limited)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
