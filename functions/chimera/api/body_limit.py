"""Refuse oversized request bodies before anything parses them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chimera import words
from chimera.api.problems import problem

MAX_BODY_BYTES = 256 * 1024  # far above the longest valid message, far below a memory problem
# A stock AI SDK client sends the whole conversation with every message (only its last question
# is read): long chats need room, still far below a memory problem.
CHAT_BODY_BYTES = 4 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """FastAPI's own ``max_body_size`` answers 413 in plain text; ours answers in the one problem shape."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = CHAT_BODY_BYTES if scope["path"] == "/api/chat" else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        too_large = False

        async def counted() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    too_large = True
                    raise BodyTooLarge
            return message

        refused = False

        async def guarded_send(message: Message) -> None:
            # FastAPI turns an error while reading the body into its own 400; answer 413 instead.
            nonlocal refused
            if too_large:
                if not refused:
                    refused = True
                    await self._refuse(scope, receive, send)
                return
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except BodyTooLarge:
            if not refused:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        max_bytes = CHAT_BODY_BYTES if scope["path"] == "/api/chat" else self.max_bytes
        detail = words.body_too_large(max_bytes // 1024)
        await problem(413, words.TOO_LARGE_TITLE, detail)(scope, receive, send)
