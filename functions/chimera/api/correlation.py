"""A correlation id on every log line of a request served under uvicorn (the chat function).

The Lambda Web Adapter passes the invocation's context in `x-amzn-lambda-context`; its request id
is the one CloudWatch and X-Ray show. Locally there is none, and a fresh id is used.
"""

from __future__ import annotations

import json
import uuid

from starlette.types import ASGIApp, Receive, Scope, Send

from chimera.observability import logger


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            logger.set_correlation_id(_request_id(dict(scope["headers"])))
        await self.app(scope, receive, send)


def _request_id(headers: dict[bytes, bytes]) -> str:
    context = headers.get(b"x-amzn-lambda-context")
    if context:
        try:
            request_id = json.loads(context).get("request_id")
        except (ValueError, AttributeError):
            request_id = None
        if isinstance(request_id, str) and request_id:
            return request_id
    return str(uuid.uuid4())
