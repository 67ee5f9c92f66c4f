"""What both protocols share: the plan for one answer, its pacing and faults, and SSE framing."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from chimera.dev.simulator.answers import simulated_reasoning, simulated_tokens, split_into_pieces
from chimera.dev.simulator.state import Scenario, SimulatorState


class DropConnection(Exception):
    """Raised inside a streaming body: uvicorn then cuts the connection mid-response."""


class _QuietDrops(logging.Filter):
    """A scripted drop is not an error worth a traceback in the test output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DropConnection))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    reasoning: list[str]
    tokens: list[str]
    first_delay: float
    delay: float


def plan_answer(state: SimulatorState, scenario: Scenario, prompt: str, *, prefill: str | None = None) -> Plan:
    """What to stream for ``prompt``; with ``prefill`` (a reply cut off earlier), only the rest of it."""
    d = state.defaults
    count = d.tokens if scenario.tokens is None else scenario.tokens
    reasoning = d.reasoning_tokens if scenario.reasoning_tokens is None else scenario.reasoning_tokens
    tokens = simulated_tokens(
        prompt, count, scenario.shape or d.shape, answer=scenario.answer, oddities=scenario.oddities
    )
    return Plan(
        scenario=scenario,
        reasoning=simulated_reasoning(prompt, reasoning),
        tokens=tokens if prefill is None else continuation(tokens, prefill),
        first_delay=d.first_token_delay_s if scenario.first_token_delay_s is None else scenario.first_token_delay_s,
        delay=d.token_delay_s if scenario.token_delay_s is None else scenario.token_delay_s,
    )


def continuation(tokens: list[str], prefill: str) -> list[str]:
    """How a model carries on a reply that was cut off: the rest of its answer, never a repeat.

    A reply that is not the start of this answer (another model's words) is followed by the
    whole answer after a paragraph break, as a model that cannot pick up the thread would.
    """
    text = "".join(tokens)
    rest = text[len(prefill) :] if text.startswith(prefill) else "\n\n" + text
    return split_into_pieces(rest) if rest else []


@dataclass(frozen=True)
class Piece:
    kind: Literal["reasoning", "content", "malformed"]
    text: str
    index: int  # position among pieces of its kind


async def paced(plan: Plan) -> AsyncIterator[Piece]:
    """The plan's pieces at its pace, reasoning first, acting out the scenario's faults on the way.

    Fault positions count answer pieces only. A "malformed" piece means "break the stream now";
    each protocol knows how to break itself.
    """
    s = plan.scenario
    await asyncio.sleep(plan.first_delay)
    sent = 0
    for i, text in enumerate(plan.reasoning):
        if sent:
            await asyncio.sleep(plan.delay)
        sent += 1
        yield Piece("reasoning", text, i)
    for i, text in enumerate(plan.tokens):
        if s.drop_after is not None and i == s.drop_after:
            raise DropConnection
        if s.malformed_after is not None and i == s.malformed_after:
            yield Piece("malformed", "", i)
            return
        if s.stall_after is not None and i == s.stall_after:
            await asyncio.sleep(3600)
        if sent:
            await asyncio.sleep(plan.delay)
        sent += 1
        yield Piece("content", text, i)


_SURROGATE = re.compile("[\ud800-\udfff]")


def sse(payload: dict[str, Any], sep: str = "\n\n") -> bytes:
    """One SSE event, as the providers send it: compact JSON with raw UTF-8, not \\u escapes.

    A lone surrogate cannot be UTF-8, so it goes out as a JSON escape ("\\ud800"): legal JSON
    that a Python client decodes into a str which then refuses to be encoded.
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return f"data: {text}{sep}".encode()


def go_duration(seconds: float) -> str:
    """Seconds as Go prints a duration, the way Groq writes waits: "2.25s", "9m38.016s", "1h0m0s"."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms" if seconds > 0 else "0s"
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs = f"{millis / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
