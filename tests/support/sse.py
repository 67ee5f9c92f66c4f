"""Reading our SSE stream the way a client does, with arrival times."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() when the event arrived
    event: dict[str, Any]


def iter_events(response: httpx.Response) -> Iterator[Received]:
    """Parse ``data:`` lines as they arrive; stop at ``[DONE]``."""
    for line in response.iter_lines():
        if not line.startswith("data: "):
            continue
        payload = line.removeprefix("data: ")
        if payload == "[DONE]":
            return
        yield Received(at=time.monotonic(), event=json.loads(payload))


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def streamed_text(events: list[dict[str, Any]]) -> str:
    """The text a client shows at the end: every delta, in order (nothing is ever taken back)."""
    return "".join(e["delta"] for e in events if e["type"] == "text-delta")
