"""Groq through the official async SDK, streaming chat completions."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping

import groq
import httpx
from groq.types.chat import ChatCompletionMessageParam

from chimera.providers.base import (
    FailureKind,
    PromptMessage,
    ProviderError,
    StreamItem,
    TextDelta,
    Usage,
    failure_kind_for_status,
)
from chimera.providers.quota_headers import parse_quota_headers, parse_retry_after
from chimera.providers.registry import ModelSpec

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

    async def aclose(self) -> None:
        await self._client.close()

    async def stream(self, *, model: ModelSpec, messages: list[PromptMessage]) -> AsyncGenerator[StreamItem]:
        try:
            raw = await self._client.chat.completions.with_raw_response.create(
                model=model.provider_model,
                messages=[_to_groq(m) for m in messages],
                stream=True,
            )
        except groq.APIStatusError as exc:
            raise _status_error(exc) from exc
        except groq.APIConnectionError as exc:
            kind = FailureKind.TIMEOUT if isinstance(exc, groq.APITimeoutError) else FailureKind.UNAVAILABLE
            raise ProviderError(provider=self.name, kind=kind, detail=type(exc).__name__) from exc

        quota = parse_quota_headers(raw.headers)
        if quota is not None:
            yield quota
        chunks = await raw.parse()
        if not isinstance(chunks, groq.AsyncStream):
            raise ProviderError(provider=self.name, kind=FailureKind.BAD_RESPONSE, detail="not a stream")
        usage: Usage | None = None
        try:
            async for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield TextDelta(chunk.choices[0].delta.content)
                reported = (chunk.x_groq.usage if chunk.x_groq else None) or chunk.usage
                if reported is not None:
                    usage = Usage(input_tokens=reported.prompt_tokens, output_tokens=reported.completion_tokens)
        except groq.APIError as exc:  # an error event inside the stream
            raise ProviderError(provider=self.name, kind=FailureKind.UNAVAILABLE, detail=exc.message) from exc
        except ValueError as exc:  # a chunk that is not JSON, or not a chunk
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


def _to_groq(message: PromptMessage) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def _status_error(exc: groq.APIStatusError) -> ProviderError:
    headers: Mapping[str, str] = exc.response.headers
    return ProviderError(
        provider=GroqProvider.name,
        kind=failure_kind_for_status(exc.status_code),
        status=exc.status_code,
        detail=exc.message,
        retry_after_s=parse_retry_after(headers),
    )
