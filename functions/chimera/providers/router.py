"""Choosing a model, retrying with backoff, and falling back between providers: all in one place.

The SDKs' own retries are off, so this is the only loop. Fallback is free before the first token;
after text was sent, a failure restarts the answer on the next provider and says so
(``AnswerDiscarded``) so the page replaces the partial text instead of repeating it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass

from chimera import observability
from chimera.providers.base import (
    RETRYABLE,
    ChatProvider,
    FailureKind,
    PromptMessage,
    ProviderError,
    QuotaReport,
    StreamItem,
    TextDelta,
    Usage,
)
from chimera.providers.health import HealthStore, after_failure, after_success
from chimera.providers.registry import FALLBACK_MODEL, MODELS, PROVIDER_ORDER, ModelSpec
from chimera.settings import Settings

logger = logging.getLogger(__name__)

# `auto` sends short, plain questions to the small fast model and everything else to the large one.
AUTO_SHORT_CHARS = 280
AUTO_SHORT_LINES = 3


@dataclass(frozen=True, slots=True)
class ModelStarted:
    """The model that is answering; ``fallback_reason`` says why it is not the first choice."""

    model: ModelSpec
    fallback_reason: str | None


@dataclass(frozen=True, slots=True)
class AnswerDiscarded:
    """A provider failed mid-answer; the text sent so far must be replaced, not extended."""

    reason: str


RouterEvent = ModelStarted | AnswerDiscarded | TextDelta | Usage


class NoProviderAvailable(Exception):
    """Every candidate failed or is resting. ``message`` is written for the person."""

    def __init__(self, message: str, *, retry_in_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_in_s = retry_in_s


def auto_model(message: str) -> str:
    plain = len(message) <= AUTO_SHORT_CHARS and message.count("\n") < AUTO_SHORT_LINES and "```" not in message
    return "groq-llama-8b" if plain else "groq-llama-70b"


def plan(choice: str, message: str, available_providers: set[str]) -> list[ModelSpec]:
    """The chosen model first, then one model of each other provider in Groq → Gemini order."""
    first = MODELS[auto_model(message) if choice == "auto" else choice]
    chain = [first] + [MODELS[FALLBACK_MODEL[p]] for p in PROVIDER_ORDER if p != first.provider]
    return [spec for spec in chain if spec.provider in available_providers]


class Router:
    def __init__(
        self,
        *,
        providers: Mapping[str, ChatProvider],
        health: HealthStore,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._providers = providers
        self._health = health
        self._settings = settings
        self._clock = clock

    async def stream(self, *, choice: str, messages: list[PromptMessage]) -> AsyncGenerator[RouterEvent]:
        chain = plan(choice, messages[-1].content, set(self._providers))
        if not chain:
            raise NoProviderAvailable("No AI provider is configured on this server.")
        failures: list[ProviderError] = []
        resting: dict[str, float] = {}  # provider -> seconds until it may be asked again
        text_sent = False
        for spec in chain:
            health = await self._health.get(spec.provider)
            if not health.available(self._clock()):
                resting[spec.provider] = health.retry_in_s(self._clock())
                continue
            for attempt in range(self._settings.provider_attempts):
                started = False
                quota: QuotaReport | None = None
                try:
                    async for item in self._guarded(spec, messages):
                        if isinstance(item, QuotaReport):
                            quota = item  # recorded with the success, in one health update
                            continue
                        if not started:
                            started = True
                            reason = _fallback_reason(failures, resting) if spec is not chain[0] else None
                            if text_sent:
                                yield AnswerDiscarded(reason=reason or "the provider failed mid-answer")
                            yield ModelStarted(model=spec, fallback_reason=reason)
                        text_sent = text_sent or isinstance(item, TextDelta)
                        yield item
                    await self._record(spec.provider, quota=quota)
                    return
                except ProviderError as error:
                    logger.warning(
                        "provider failed",
                        extra={"provider": spec.provider, "kind": error.kind.value, "status": error.status},
                    )
                    failures.append(error)
                    observability.record_provider_error(provider=spec.provider, kind=error.kind.value)
                    await self._record(spec.provider, error=error)
                    delay = None if started else self._retry_delay(error, attempt)
                    if delay is None:
                        break
                    await asyncio.sleep(delay)
        raise _exhausted(failures, resting)

    async def _guarded(self, spec: ModelSpec, messages: list[PromptMessage]) -> AsyncGenerator[StreamItem]:
        """The provider's stream with a first-token deadline and an idle deadline between tokens."""
        items = self._providers[spec.provider].stream(model=spec, messages=messages)
        timeout = self._settings.first_token_timeout_s
        try:
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        item = await anext(items)
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    raise ProviderError(
                        provider=spec.provider, kind=FailureKind.TIMEOUT, detail=f"no token in {timeout:g} s"
                    ) from exc
                if isinstance(item, TextDelta):
                    timeout = self._settings.stream_idle_timeout_s
                yield item
        finally:
            await items.aclose()

    def _retry_delay(self, error: ProviderError, attempt: int) -> float | None:
        if attempt + 1 >= self._settings.provider_attempts:
            return None
        if error.kind == FailureKind.RATE_LIMITED:
            wait = error.retry_after_s
            return wait if wait is not None and wait <= self._settings.max_retry_after_wait_s else None
        if error.kind in RETRYABLE:
            # Exponential backoff with full jitter, so instances that failed together retry apart.
            return random.uniform(0, self._settings.retry_base_delay_s * 2**attempt)
        return None

    async def _record(
        self, provider: str, *, error: ProviderError | None = None, quota: QuotaReport | None = None
    ) -> None:
        health = await self._health.get(provider)
        now = self._clock()
        updated = after_failure(health, error, now) if error else after_success(health, quota, now)
        if updated != health:
            await self._health.put(updated)


_PROVIDER_NAMES = {"groq": "Groq", "gemini": "Gemini"}
_FAILURE_WORDS = {
    FailureKind.RATE_LIMITED: "is at its rate limit",
    FailureKind.UNAVAILABLE: "is unavailable",
    FailureKind.TIMEOUT: "did not answer in time",
    FailureKind.BAD_RESPONSE: "sent a broken answer",
    FailureKind.REJECTED: "refused the request",
}


def _pretty(provider: str) -> str:
    return _PROVIDER_NAMES.get(provider, provider)


def _describe(error: ProviderError) -> str:
    return f"{_pretty(error.provider)} {_FAILURE_WORDS[error.kind]}"


def _fallback_reason(failures: list[ProviderError], resting: dict[str, float]) -> str | None:
    if failures:
        return _describe(failures[-1])
    if resting:
        return f"{_pretty(next(iter(resting)))} is resting after errors or rate limits"
    return None


def _exhausted(failures: list[ProviderError], resting: dict[str, float]) -> NoProviderAvailable:
    """One sentence a person can act on: what went wrong and when to try again."""
    waits = list(resting.values()) + [
        e.retry_after_s for e in failures if e.kind == FailureKind.RATE_LIMITED and e.retry_after_s
    ]
    rate_limited = bool(resting) or any(e.kind == FailureKind.RATE_LIMITED for e in failures)
    retry_in = min(waits) if waits else None
    when = f"in about {max(1, round(retry_in))} seconds" if retry_in else "in a moment"
    if rate_limited and all(e.kind == FailureKind.RATE_LIMITED for e in failures):
        return NoProviderAvailable(
            f"The AI providers are at their free-tier limits right now. Please try again {when}.",
            retry_in_s=retry_in,
        )
    seen: dict[str, str] = {}
    for error in failures:
        seen[error.provider] = _describe(error)
    for provider in resting:
        seen.setdefault(provider, f"{_pretty(provider)} is resting after errors or rate limits")
    return NoProviderAvailable(
        f"No AI provider could answer ({'; '.join(seen.values())}). Please try again {when}.",
        retry_in_s=retry_in,
    )
