"""Choosing a model, retrying with backoff, and falling back between providers: all in one place.

The SDKs' own retries are off, so this is the only loop. Fallback is free before the first token;
after text was sent, the next model *continues* the answer: it receives the text sent so far as the
start of its own reply (a final assistant turn), so every client shows one answer that simply goes
on, with nothing to replace (AI SDK 5 and 6 reject any chunk type that could say "replace").
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from chimera import observability, words
from chimera.providers.base import (
    RETRYABLE,
    ChatProvider,
    FailureKind,
    PromptMessage,
    ProviderError,
    QuotaReport,
    StreamItem,
    TextDelta,
    Thinking,
    Usage,
)
from chimera.providers.catalogue import Catalogue, ModelSpec
from chimera.providers.health import HealthStore, ModelHealth, after_failure, after_success, claim_probe

logger = logging.getLogger(__name__)

# `auto` sends short, plain questions to the small fast model and everything else to the large one.
AUTO_SHORT_CHARS = 280
AUTO_SHORT_LINES = 3
MODEL_GONE_FIX = "update CHIMERA_MODELS_FILE (see `chimera models`)"


class RouterSettings(Protocol):
    provider_attempts: int
    retry_base_delay_s: float
    max_retry_after_wait_s: float
    first_token_timeout_s: float
    stream_idle_timeout_s: float


@dataclass(frozen=True, slots=True)
class ModelStarted:
    """The model that is answering; ``fallback_reason`` says why it is not the first choice, and
    ``continues`` that it carries on an answer another model began."""

    model: ModelSpec
    fallback_reason: str | None
    continues: bool = False


@dataclass(frozen=True, slots=True)
class Spent:
    """Tokens one attempt consumed: the provider's count, or an estimate for an attempt that broke
    after it had sent text (the provider bills what it generated)."""

    model: ModelSpec
    usage: Usage
    estimated: bool


RouterEvent = ModelStarted | TextDelta | Spent


class NoProviderAvailable(Exception):
    """Every candidate failed or is resting. ``message`` is written for the person."""

    def __init__(self, message: str, *, retry_in_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_in_s = retry_in_s


def auto_model(catalogue: Catalogue, message: str) -> str:
    plain = len(message) <= AUTO_SHORT_CHARS and message.count("\n") < AUTO_SHORT_LINES and "```" not in message
    return catalogue.routing.auto_small if plain else catalogue.routing.auto_large


def auto_description(catalogue: Catalogue) -> str:
    small, large = catalogue.spec(catalogue.routing.auto_small), catalogue.spec(catalogue.routing.auto_large)
    return (
        f"Short plain questions go to {small.label}, everything else to {large.label}; "
        "another model steps in if one fails."
    )


def plan(catalogue: Catalogue, choice: str, message: str, available_providers: set[str]) -> list[ModelSpec]:
    """The chosen model, its provider's fallback model, then one model of each other provider.

    The same-provider fallback is only asked when the chosen model itself is gone (``Router.stream``):
    for an outage or a rate limit the other provider is the better bet.
    """
    routing = catalogue.routing
    first = catalogue.spec(auto_model(catalogue, message) if choice == "auto" else choice)
    chain = [first]
    for provider in (first.provider, *routing.provider_order):
        key = routing.fallback.get(provider)
        if key is not None and all(spec.key != key for spec in chain):
            chain.append(catalogue.spec(key))
    return [spec for spec in chain if spec.provider in available_providers]


@dataclass(frozen=True, slots=True)
class _Resting:
    """A model skipped because its health says so: for how long, and whether it is gone for good."""

    spec: ModelSpec
    wait_s: float
    gone: bool


@dataclass(slots=True)
class _Attempts:
    """What went wrong so far in one turn, for the next decision and for the person."""

    failures: list[tuple[ModelSpec, ProviderError]] = field(default_factory=list)
    resting: dict[str, _Resting] = field(default_factory=dict)  # by model key

    def gone(self, spec: ModelSpec) -> bool:
        return any(s.key == spec.key and e.kind == FailureKind.MODEL_GONE for s, e in self.failures) or (
            spec.key in self.resting and self.resting[spec.key].gone
        )

    def skip_sibling(self, spec: ModelSpec, earlier: list[ModelSpec]) -> bool:
        """Another model of a provider already tried is worth asking only if that one is gone."""
        same = [s for s in earlier if s.provider == spec.provider]
        return bool(same) and not any(self.gone(s) for s in same)


class Router:
    def __init__(
        self,
        *,
        providers: Mapping[str, ChatProvider],
        health: HealthStore,
        settings: RouterSettings,
        catalogue: Catalogue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._providers = providers
        self._health = health
        self._settings = settings
        self._catalogue = catalogue
        self._clock = clock

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    async def stream(self, *, choice: str, messages: list[PromptMessage]) -> AsyncGenerator[RouterEvent]:
        chain = plan(self._catalogue, choice, messages[-1].content, set(self._providers))
        if not chain:
            raise NoProviderAvailable(words.NO_PROVIDER)
        attempts = _Attempts()
        sent: list[str] = []  # the answer so far, across models: what a continuation starts from
        for index, spec in enumerate(chain):
            if attempts.skip_sibling(spec, chain[:index]):
                continue
            health = await self._may_ask(spec)
            if health is not None:
                attempts.resting[spec.key] = _Resting(spec, health.retry_in_s(self._clock()), health.gone)
                continue
            # An SDK's first use (google-genai's ~1.6 s import) is not the model being slow:
            # it happens here, before any first-token deadline starts.
            await self._providers[spec.provider].prepare()
            for attempt in range(self._settings.provider_attempts):
                continuing = bool(sent)
                prompt = [*messages, PromptMessage("assistant", "".join(sent))] if continuing else messages
                started = False
                pieces = 0  # text pieces this attempt sent
                quota: QuotaReport | None = None
                try:
                    async for item in self._guarded(spec, prompt):
                        if isinstance(item, QuotaReport):
                            quota = item  # recorded with the success, in one health update
                            continue
                        if isinstance(item, Thinking):
                            continue  # alive (the deadline saw it), but nothing to show
                        if not started:
                            started = True
                            reason = _fallback_reason(attempts) if index else None
                            yield ModelStarted(model=spec, fallback_reason=reason, continues=continuing)
                        if isinstance(item, Usage):
                            yield Spent(spec, item, estimated=False)
                            continue
                        sent.append(item.text)
                        pieces += 1
                        yield item
                    await self._record(spec, quota=quota)
                    return
                except ProviderError as error:
                    self._report(spec, error)
                    attempts.failures.append((spec, error))
                    await self._record(spec, error=error)
                    if pieces:  # it generated text before it broke: that was billed
                        yield Spent(spec, _estimate(prompt, pieces), estimated=True)
                    delay = None if started else self._retry_delay(error, attempt)
                    if delay is None:
                        break
                    await asyncio.sleep(delay)
        raise _exhausted(attempts)

    @staticmethod
    def _report(spec: ModelSpec, error: ProviderError) -> None:
        observability.record_provider_error(provider=spec.provider, kind=error.kind.value)
        facts = {"provider": spec.provider, "model": spec.key, "providerModel": spec.provider_model}
        if error.kind == FailureKind.MODEL_GONE:
            # Loud: every turn that chose this model is now a fallback until the catalogue changes.
            logger.error(
                "the provider does not serve this model; %s",
                MODEL_GONE_FIX,
                extra=facts | {"status": error.status, "code": error.code, "fix": MODEL_GONE_FIX},
            )
            observability.record_model_gone(provider=spec.provider, provider_model=spec.provider_model)
        else:
            logger.warning("provider failed", extra=facts | {"kind": error.kind.value, "status": error.status})

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
                if isinstance(item, TextDelta | Thinking):  # the model is answering: idle deadline from now on
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
        self, spec: ModelSpec, *, error: ProviderError | None = None, quota: QuotaReport | None = None
    ) -> None:
        if error is not None and error.request_fault:
            return  # the request's own fault says nothing about the model: nobody else pays for it
        now = self._clock()
        if error is not None:
            await self._health.update(spec.health_key, lambda health: after_failure(health, error, now))
        else:
            await self._health.update(spec.health_key, lambda health: after_success(health, quota, now))

    async def _may_ask(self, spec: ModelSpec) -> ModelHealth | None:
        """None if this turn may ask the model; else its health, which says how long it rests.

        A closed circuit is asked. An open one rests. A half-open one is asked by exactly one turn
        across all instances, the one whose claim of the probe the shared store kept.
        """
        health = await self._health.get(spec.health_key)
        now = self._clock()
        state = health.state(now)
        if state == "closed":
            return None
        if state == "half-open" and now >= health.probe_until:
            token = uuid.uuid4().hex
            health = await self._health.update(spec.health_key, lambda current: claim_probe(current, now, token))
            if health.probe_token == token:
                return None
        return health


def _estimate(prompt: list[PromptMessage], pieces: int) -> Usage:
    """What an attempt that broke mid-answer consumed: about four characters a token for the prompt,
    one token a streamed piece for the answer."""
    return Usage(input_tokens=sum(len(m.content) for m in prompt) // 4, output_tokens=pieces)


def _describe(spec: ModelSpec, error: ProviderError) -> str:
    return words.model_failed(spec.label, error.kind.value)


def _fallback_reason(attempts: _Attempts) -> str | None:
    if attempts.failures:
        return _describe(*attempts.failures[-1])
    if attempts.resting:
        first = next(iter(attempts.resting.values()))
        return words.model_resting(first.spec.label, gone=first.gone)
    return None


def _exhausted(attempts: _Attempts) -> NoProviderAvailable:
    """One sentence a person can act on: what went wrong and when to try again."""
    failures = [error for _, error in attempts.failures]
    resting = list(attempts.resting.values())
    waits = [r.wait_s for r in resting if not r.gone] + [
        e.retry_after_s for e in failures if e.kind == FailureKind.RATE_LIMITED and e.retry_after_s
    ]
    rate_limited = any(not r.gone for r in resting) or any(e.kind == FailureKind.RATE_LIMITED for e in failures)
    retry_in = min(waits) if waits else None
    any_gone = any(r.gone for r in resting)
    if rate_limited and not any_gone and all(e.kind == FailureKind.RATE_LIMITED for e in failures):
        return NoProviderAvailable(words.all_at_free_tier_limits(retry_in), retry_in_s=retry_in)
    too_large = [spec.label for spec, error in attempts.failures if error.kind == FailureKind.TOO_LARGE]
    if too_large and len(too_large) == len(failures) and not resting:
        return NoProviderAvailable(words.too_long_for(too_large))
    seen: dict[str, str] = {}
    for spec, error in attempts.failures:
        seen[spec.key] = _describe(spec, error)
    for rest in resting:
        seen.setdefault(rest.spec.key, words.model_resting(rest.spec.label, gone=rest.gone))
    return NoProviderAvailable(words.no_model_answered(list(seen.values()), retry_in), retry_in_s=retry_in)
