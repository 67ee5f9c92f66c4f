"""Google Gemini through the official google-genai SDK, streaming generate_content.

google-genai costs about 1.6 s to import, so it is imported when the first Gemini provider is
built, never at module load: a Lambda that only ever talks to Groq does not pay for it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
import httpx

from chimera.providers.base import (
    FailureKind,
    PromptMessage,
    ProviderError,
    StreamItem,
    TextDelta,
    Thinking,
    Usage,
    failure_kind_for_status,
)
from chimera.providers.catalogue import ModelSpec
from chimera.providers.quota_headers import parse_duration_s

if TYPE_CHECKING:
    from types import ModuleType

    from google import genai
    from google.genai import types as genai_types


# A continuation (the router's fallback after a stream broke mid-answer) ends on the model's own
# partial reply. Groq continues a final assistant turn (its documented prefill); for Gemini, whose
# API has been seen to refuse contents that end on a model turn (crewAI PR #6973, 2026-08), the
# partial reply is followed by this request to carry on.
CONTINUE_INSTRUCTION = (
    "Your reply above was cut off. Continue it from exactly where it stops, without repeating "
    "anything and without any preamble."
)


@dataclass(frozen=True, slots=True)
class _Sdk:
    client: genai.Client
    types: ModuleType
    errors: ModuleType


class GeminiProvider:
    name = "gemini"

    def __init__(self, *, api_key: str, base_url: str | None, timeout_s: float) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._sdk: _Sdk | None = None
        self._connecting = asyncio.Lock()

    def _connect(self) -> _Sdk:
        """Import google-genai and build the client on first use, not at start-up."""
        from google import genai
        from google.genai import errors, types

        # The router owns retrying and deadlines. One attempt: without retry_options the SDK
        # retries a refused connection by itself for 1-10 s at a time. No timeout: the SDK's bounds
        # the whole request, which would cut a long healthy answer; the router's deadlines apply
        # per read. With aiohttp installed the SDK streams over a session without a connection
        # cap, so hundreds of streams never queue.
        options = types.HttpOptions(base_url=self._base_url, retry_options=types.HttpRetryOptions(attempts=1))
        return _Sdk(genai.Client(api_key=self._api_key, http_options=options), types, errors)

    async def prepare(self) -> None:
        await self._ready()

    async def _ready(self) -> _Sdk:
        if self._sdk is None:
            async with self._connecting:  # the first use imports google-genai (~1.6 s): off the loop, once
                if self._sdk is None:
                    self._sdk = await asyncio.to_thread(self._connect)
        return self._sdk

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.client.aio.aclose()

    async def list_models(self) -> set[str]:
        sdk = await self._ready()
        names: set[str] = set()
        try:
            async with asyncio.timeout(self._timeout_s):  # no router here: the listing has its own bound
                async for model in await sdk.client.aio.models.list():
                    if model.name and "generateContent" in (model.supported_actions or ["generateContent"]):
                        names.add(model.name.removeprefix("models/"))
        except sdk.errors.APIError as exc:
            raise _api_error(self.name, exc) from exc
        except TimeoutError as exc:
            raise ProviderError(provider=self.name, kind=FailureKind.TIMEOUT, detail="listing timed out") from exc
        except (aiohttp.ClientError, httpx.HTTPError, OSError) as exc:
            raise ProviderError(provider=self.name, kind=FailureKind.UNAVAILABLE, detail=type(exc).__name__) from exc
        return names

    async def stream(self, *, model: ModelSpec, messages: list[PromptMessage]) -> AsyncGenerator[StreamItem]:
        sdk = await self._ready()
        types = sdk.types
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        contents = [
            types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.content)])
            for m in messages
            if m.role != "system"
        ]
        if messages and messages[-1].role == "assistant":
            contents.append(types.Content(role="user", parts=[types.Part(text=CONTINUE_INSTRUCTION)]))
        # Thoughts are asked for only so that a thinking model is seen to be alive (``Thinking``):
        # otherwise it is silent until its answer, and its thinking counts against the deadline.
        config = types.GenerateContentConfig(
            system_instruction=system or None, thinking_config=types.ThinkingConfig(include_thoughts=True)
        )
        usage: Usage | None = None
        finished = False
        try:
            chunks = await sdk.client.aio.models.generate_content_stream(
                model=model.provider_model, contents=contents, config=config
            )
            async for chunk in chunks:
                text, thought = _chunk_text(chunk)
                if text:
                    yield TextDelta(text)
                elif thought:
                    yield Thinking()  # never shown or saved
                finished = finished or bool(chunk.candidates and chunk.candidates[0].finish_reason)
                if chunk.usage_metadata is not None:
                    reported = chunk.usage_metadata
                    usage = Usage(
                        input_tokens=reported.prompt_token_count or 0,
                        # A thinking model's thoughts are billed as output but not counted as candidates.
                        output_tokens=(reported.candidates_token_count or 0) + (reported.thoughts_token_count or 0),
                    )
        except sdk.errors.APIError as exc:
            raise _api_error(self.name, exc) from exc
        except ValueError as exc:  # a chunk that is not JSON
            raise ProviderError(provider=self.name, kind=FailureKind.BAD_RESPONSE, detail="malformed chunk") from exc
        except TimeoutError as exc:
            raise ProviderError(provider=self.name, kind=FailureKind.TIMEOUT, detail="timed out") from exc
        except (aiohttp.ClientError, httpx.HTTPError, OSError) as exc:
            raise ProviderError(
                provider=self.name, kind=FailureKind.UNAVAILABLE, detail=f"connection: {type(exc).__name__}"
            ) from exc
        # Every chunk carries usage; only the last one says why it finished.
        if usage is None or not finished:
            raise ProviderError(provider=self.name, kind=FailureKind.BAD_RESPONSE, detail="stream ended early")
        yield usage


def _api_error(provider: str, exc: Any) -> ProviderError:
    """google-genai's ``APIError`` as ours. A 404 NOT_FOUND names a model Gemini does not serve."""
    status = str(exc.status or "")
    kind = failure_kind_for_status(exc.code)
    if exc.code == 404 and status == "NOT_FOUND":
        kind = FailureKind.MODEL_GONE
    elif exc.code == 400 and "token" in (exc.message or "").lower() and "exceed" in (exc.message or "").lower():
        kind = FailureKind.TOO_LARGE  # "The input token count (N) exceeds the maximum number of tokens allowed"
    return ProviderError(
        provider=provider,
        kind=kind,
        status=exc.code,
        detail=exc.message or status,
        retry_after_s=retry_hint_s(exc.details, exc.message or "") if kind == FailureKind.RATE_LIMITED else None,
        code=status or None,
    )


def _chunk_text(chunk: genai_types.GenerateContentResponse) -> tuple[str, bool]:
    """The answer text in a chunk, and whether it carried thoughts (which are not answer text)."""
    # Read the parts directly: `chunk.text` warns on chunks that carry no text part.
    if not chunk.candidates or chunk.candidates[0].content is None:
        return "", False
    parts = chunk.candidates[0].content.parts or []
    return "".join(part.text or "" for part in parts if not part.thought), any(part.thought for part in parts)


_RETRY_IN = re.compile(r"Please retry in (\d+(?:\.\d+)?)(ms|s)\b")


def retry_hint_s(details: Any, message: str, *, now: float | None = None) -> float | None:
    """How long Gemini says to wait after a 429 (RESOURCE_EXHAUSTED).

    In order: a ``RetryInfo`` detail ("retryDelay": "33s"); the message's own "Please retry in
    33.5s."; and for a per-day quota (a ``QuotaFailure`` whose quotaId says PerDay) with neither,
    the next midnight Pacific time, when the day's quota comes back.
    """
    error = details.get("error") if isinstance(details, dict) else None
    items = [item for item in (error or {}).get("details") or [] if isinstance(item, dict)]
    for item in items:
        if str(item.get("@type", "")).endswith("RetryInfo"):
            delay = parse_duration_s(str(item.get("retryDelay", "")))
            if delay is not None:
                return delay
    said = _RETRY_IN.search(message)
    if said:
        return float(said.group(1)) / (1000 if said.group(2) == "ms" else 1)
    per_day = any(
        "PerDay" in str(violation.get("quotaId", ""))
        for item in items
        if str(item.get("@type", "")).endswith("QuotaFailure")
        for violation in item.get("violations") or []
        if isinstance(violation, dict)
    )
    return _to_pacific_midnight(time.time() if now is None else now) if per_day else None


def _to_pacific_midnight(now: float) -> float:
    """Seconds to the next midnight Pacific time, when Gemini's daily quotas reset."""
    try:
        pacific: tzinfo = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # a runtime without time zone data: standard time is near enough
        pacific = timezone(timedelta(hours=-8))
    local = datetime.fromtimestamp(now, pacific)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), pacific)
    return midnight.timestamp() - now
