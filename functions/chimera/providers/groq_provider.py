"""Groq through the official async SDK, streaming chat completions."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import Any

import aiohttp
import groq
import httpx
from groq.types.chat import ChatCompletionMessageParam

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
from chimera.providers.quota_headers import parse_quota_headers, parse_retry_after

logger = logging.getLogger(__name__)


class GroqProvider:
    name = "groq"

    def __init__(self, *, api_key: str, base_url: str | None, max_connections: int, timeout_s: float) -> None:
        # aiohttp transport: httpx's pool scans every connection per request, which dominates a
        # profile with hundreds of open streams (FACTS.md). Retries are the router's job.
        http_client = groq.DefaultAioHttpClient(
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=100),
            timeout=httpx.Timeout(timeout_s, connect=5.0),
        )
        self._client = groq.AsyncGroq(api_key=api_key, base_url=base_url, max_retries=0, http_client=http_client)

    async def prepare(self) -> None:
        """The SDK is imported with this module; nothing to wait for."""

    async def aclose(self) -> None:
        await self._client.close()

    async def list_models(self) -> set[str]:
        try:
            page = await self._client.models.list()
        except groq.APIStatusError as exc:
            raise _status_error(exc) from exc
        except groq.APIConnectionError as exc:
            raise _connection_error(exc) from exc
        return {model.id for model in page.data}

    async def stream(self, *, model: ModelSpec, messages: list[PromptMessage]) -> AsyncGenerator[StreamItem]:
        # The SDK's own client, request and stream, through its generic ``post`` (what the SDK's
        # README offers for "undocumented endpoints"): the typed ``chat.completions.create`` walks every message
        # through the SDK's TypedDict transform and builds a pydantic model for every chunk, a
        # fifth of the app's CPU with a hundred streams (README, "Performance"), for a body that is
        # plain JSON already and chunks that are read for three fields. Same URL, headers, errors.
        body: dict[str, object] = {"model": model.provider_model, "messages": [_to_groq(m) for m in messages]}
        if model.reasoning_effort:
            body["reasoning_effort"] = model.reasoning_effort
        try:
            chunks = await self._client.post(
                CHAT_COMPLETIONS, body=body | {"stream": True}, cast_to=object, stream=True, stream_cls=_Chunks
            )
        except groq.APIStatusError as exc:
            raise _status_error(exc) from exc
        except groq.APIConnectionError as exc:
            raise _connection_error(exc) from exc

        quota = parse_quota_headers(chunks.response.headers)
        if quota is not None:
            yield quota
        usage: Usage | None = None
        try:
            async for chunk in chunks:
                delta, reported = _read_chunk(chunk)
                if delta.get("content"):
                    yield TextDelta(delta["content"])
                elif delta.get("reasoning"):
                    yield Thinking()  # never shown or saved; it tells the deadline the model is alive
                if reported is not None:
                    usage = Usage(input_tokens=reported["prompt_tokens"], output_tokens=reported["completion_tokens"])
        except groq.APIError as exc:  # an error event inside the stream
            raise ProviderError(provider=self.name, kind=FailureKind.UNAVAILABLE, detail=exc.message) from exc
        except (ValueError, LookupError, TypeError, AttributeError) as exc:  # not JSON, or not a chunk
            raise ProviderError(provider=self.name, kind=FailureKind.BAD_RESPONSE, detail="malformed chunk") from exc
        except (httpx.HTTPError, OSError) as exc:  # aiohttp errors are OSErrors too
            raise ProviderError(
                provider=self.name, kind=FailureKind.UNAVAILABLE, detail=f"stream broke: {type(exc).__name__}"
            ) from exc
        finally:
            await chunks.close()
        if usage is None:
            raise ProviderError(provider=self.name, kind=FailureKind.BAD_RESPONSE, detail="stream ended early")
        yield usage


CHAT_COMPLETIONS = "/openai/v1/chat/completions"  # the path chat.completions.create posts to
_Chunks = groq.AsyncStream[object]  # each chunk as the JSON object it is


def _read_chunk(chunk: object) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A chat.completion.chunk's delta and, on the last one, its usage (``x_groq.usage``, or the
    OpenAI-style ``usage``). Raises TypeError or LookupError for anything else."""
    if not isinstance(chunk, dict):
        raise TypeError("not a chunk")
    choices = chunk.get("choices") or []
    delta = (choices[0].get("delta") if choices else None) or {}
    reported = (chunk.get("x_groq") or {}).get("usage") or chunk.get("usage")
    return delta, reported


def _to_groq(message: PromptMessage) -> ChatCompletionMessageParam:
    # A final assistant message is a continuation: Groq's prefill (console.groq.com/docs/prompting)
    # makes the model carry on from its last character.
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def _connection_error(exc: groq.APIConnectionError) -> ProviderError:
    """A refused or hung-up connection is the provider being unavailable, not slow.

    The aiohttp transport reports them as a *timeout* (httpx.ConnectTimeout from aiohttp's
    ClientConnectorError, ServerDisconnectedError or ClientOSError, whichever the race between our
    write and their close gives), so the cause chain decides.
    """
    broken = (ConnectionError, aiohttp.ClientConnectionError)  # refused, reset, hung up...
    unreachable = any(
        isinstance(cause, broken) and not isinstance(cause, TimeoutError)  # ...but not aiohttp's timeouts
        for cause in _causes(exc)
    )
    timed_out = isinstance(exc, groq.APITimeoutError) and not unreachable
    kind = FailureKind.TIMEOUT if timed_out else FailureKind.UNAVAILABLE
    detail = "connection refused or closed" if unreachable else type(exc).__name__
    return ProviderError(provider=GroqProvider.name, kind=kind, detail=detail)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


# Groq's codes for a model id it does not serve (400 for a retired one, 404 for an unknown one).
MODEL_GONE_CODES = frozenset({"model_decommissioned", "model_not_found"})


def _status_error(exc: groq.APIStatusError) -> ProviderError:
    headers: Mapping[str, str] = exc.response.headers
    code = _error_code(exc.body)
    kind = failure_kind_for_status(exc.status_code)
    if exc.status_code in (400, 404) and code in MODEL_GONE_CODES:
        kind = FailureKind.MODEL_GONE
    elif exc.status_code == 413 or code == "context_length_exceeded":
        kind = FailureKind.TOO_LARGE  # over the context, or over the model's tokens a minute
    return ProviderError(
        provider=GroqProvider.name,
        kind=kind,
        status=exc.status_code,
        detail=exc.message,
        retry_after_s=parse_retry_after(headers),
        code=code,
        quota=parse_quota_headers(headers),
    )


def _error_code(body: object) -> str | None:
    """The ``code`` of Groq's error body, ``{"error": {"message", "type", "code"}}`` (or its inner object)."""
    if not isinstance(body, dict):
        return None
    error = body.get("error", body)
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None
