"""Refuse requests that did not come through CloudFront.

The chat Function URL and the HTTP API's execute-api URL are public addresses. CloudFront adds a
secret header (``x-chimera-origin``, its value from Secrets Manager) to every request it sends
them; a request without it is someone calling the origin directly, and gets nothing but a 403.
Where no origin secret is configured (a laptop, the tests) there is nothing to check.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from chimera import words
from chimera.api.problems import problem
from chimera.errors import NotConfigured
from chimera.runtime import RuntimeHolder

ORIGIN_HEADER = b"x-chimera-origin"


class OriginGuardMiddleware:
    def __init__(self, app: ASGIApp, *, holder: RuntimeHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not await self._through_cloudfront(scope):
            response = problem(403, words.FORBIDDEN_TITLE, words.NOT_THROUGH_SITE)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _through_cloudfront(self, scope: Scope) -> bool:
        try:
            settings = await self.holder.settings()
        except NotConfigured:
            return True  # the secrets cannot be read: every route answers 503 with the reason anyway
        if settings.chimera_origin_secret is None:
            return True
        expected = settings.chimera_origin_secret.get_secret_value().encode()
        sent = next((value for name, value in scope["headers"] if name == ORIGIN_HEADER), b"")
        return hmac.compare_digest(sent, expected)  # constant time: no guessing byte by byte
