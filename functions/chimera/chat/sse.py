"""The AI SDK "UI message stream" protocol (v1): one JSON object per Server-Sent Event.

Any AI SDK ``useChat`` front end can read it; our own page reads the same thing. Our own facts
travel as ``data-*`` parts.
"""

from __future__ import annotations

import json
from typing import Any

HEADERS = {
    "x-vercel-ai-ui-message-stream": "v1",
    "cache-control": "no-cache, no-transform",
    # Tell proxies (nginx, CloudFront behaviours) not to hold the stream back.
    "x-accel-buffering": "no",
}
DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": keep-alive\n\n"  # an SSE comment: clients ignore it, proxies see traffic


def event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def start(message_id: str) -> bytes:
    return event({"type": "start", "messageId": message_id})


def text_start(part_id: str) -> bytes:
    return event({"type": "text-start", "id": part_id})


def text_delta(part_id: str, delta: str) -> bytes:
    return event({"type": "text-delta", "id": part_id, "delta": delta})


def text_end(part_id: str) -> bytes:
    return event({"type": "text-end", "id": part_id})


def data(name: str, payload: dict[str, Any]) -> bytes:
    return event({"type": f"data-{name}", "data": payload})


def finish() -> bytes:
    return event({"type": "finish"})


def error(text: str) -> bytes:
    return event({"type": "error", "errorText": text})
