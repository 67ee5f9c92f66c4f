"""The fallback loop: the planned models are asked in turn until one answers.

Three pieces with one owner each: ``choose`` orders the models (and decides ``auto``),
``retry_policy`` says whether to ask a model again, ``bookkeeping`` knows and records each model's
health and free-tier budget. This loop only follows them. Fallback is free before the first token;
after text was sent, the next model *continues* the answer: it receives the text sent so far as the
start of its own reply (a final assistant turn), so every client shows one answer that simply goes
on, with nothing to replace (AI SDK 5 and 6 reject any chunk type that could say "replace").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from random import Random
from typing import Protocol

from chimera import observability, words
from chimera.providers.base import (
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
from chimera.providers.bookkeeping import ModelBook
from chimera.providers.budget import BudgetStore
from chimera.providers.catalogue import Catalogue, ModelSpec
from chimera.providers.choose import ModelView, Weight, auto_preference, plan, weigh
from chimera.providers.health import HealthStore
from chimera.providers.retry_policy import retry_delay

logger = logging.getLogger(__name__)

OWN_TROUBLE = frozenset({FailureKind.MODEL_GONE, FailureKind.RATE_LIMITED, FailureKind.TOO_LARGE})
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


@dataclass(frozen=True, slots=True)
class _Resting:
    """A model skipped because its health says so: for how long, and whether it is gone for good."""

    spec: ModelSpec
    wait_s: float
    gone: bool
    spent: bool = False  # its free-tier budget cannot take this request now
    rate_limited: bool = False  # it rests after a 429


@dataclass(slots=True)
class _Attempts:
    """What went wrong so far in one turn, for the next decision and for the person."""

    failures: list[tuple[ModelSpec, ProviderError]] = field(default_factory=list)
    resting: dict[str, _Resting] = field(default_factory=dict)  # by model key

    def gone(self, spec: ModelSpec) -> bool:
        return any(s.key == spec.key and e.kind == FailureKind.MODEL_GONE for s, e in self.failures) or (
            spec.key in self.resting and self.resting[spec.key].gone
        )

    def own_trouble(self, spec: ModelSpec) -> bool:
        """The model was passed over for a reason of its own, not its provider's: gone, out of its
        budget or rate limit (both providers count limits per model), or too small for the request.
        The provider's other models may still answer."""
        rest = self.resting.get(spec.key)
        return (
            self.gone(spec)
            or (rest is not None and (rest.spent or rest.rate_limited))
            or any(s.key == spec.key and e.kind in OWN_TROUBLE for s, e in self.failures)
        )

    def no_bigger_than_too_small(self, spec: ModelSpec) -> bool:
        """A model that refused this request as too large rules out every model no larger than it:
        no longer a context window, and no more tokens a minute (no limit counts as the most)."""

        def tpm(model: ModelSpec) -> float:
            return model.free_tier.tpm or float("inf")

        return any(
            error.kind == FailureKind.TOO_LARGE
            and spec.context_tokens <= failed.context_tokens
            and tpm(spec) <= tpm(failed)
            for failed, error in self.failures
            if failed.key != spec.key
        )

    def skip_sibling(self, spec: ModelSpec, earlier: list[ModelSpec]) -> bool:
        """Another model of a provider already tried is worth asking only if that one's trouble was
        its own: after an outage at the provider, the other provider is the better bet."""
        same = [s for s in earlier if s.provider == spec.provider]
        return bool(same) and not any(self.own_trouble(s) for s in same)


class Router:
    """The fallback loop: ask the planned models in turn until one answers.

    It owns no decision of its own: ``choose.plan`` orders the models (and decides ``auto``),
    ``retry_policy.retry_delay`` says whether to ask a model again, and the ``ModelBook`` knows and
    records each model's health and budget.
    """

    def __init__(
        self,
        *,
        providers: Mapping[str, ChatProvider],
        health: HealthStore,
        budgets: BudgetStore,
        settings: RouterSettings,
        catalogue: Catalogue,
        clock: Callable[[], float] = time.time,
        rng: Random | None = None,
    ) -> None:
        self._providers = providers
        self._settings = settings
        self._catalogue = catalogue
        self._clock = clock
        self._rng = rng or Random()
        self._book = ModelBook(
            catalogue=catalogue, providers=set(providers), health=health, budgets=budgets, clock=clock
        )

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    @property
    def book(self) -> ModelBook:
        return self._book

    async def plan(
        self, *, choice: str, messages: list[PromptMessage]
    ) -> tuple[Weight, dict[str, ModelView], list[ModelSpec]]:
        """What this turn weighs, how every model looks, and the models to ask in order."""
        weight = weigh(messages)
        views = await self._book.views()
        return weight, views, plan(self._catalogue, choice, weight, views, self._rng)

    async def stream(self, *, choice: str, messages: list[PromptMessage]) -> AsyncGenerator[RouterEvent]:
        weight, views, chain = await self.plan(choice=choice, messages=messages)
        if not chain:
            raise NoProviderAvailable(words.NO_PROVIDER)
        attempts = _Attempts()
        # When auto passed over the model it wanted, the person hears why, as after a fallback.
        wanted = views.get(auto_preference(self._catalogue, weight)) if choice == "auto" else None
        passed_over = wanted is not None and wanted.spec.key != chain[0].key
        if wanted is not None and passed_over:
            self._pass_over(wanted, weight, attempts)
        sent: list[str] = []  # the answer so far, across models: what a continuation starts from
        for index, spec in enumerate(chain):
            if attempts.skip_sibling(spec, chain[:index]) or attempts.no_bigger_than_too_small(spec):
                continue
            view = views[spec.key]
            if view.too_large(weight):  # known without asking: it would answer 400 or 413
                attempts.failures.append((spec, _too_large(spec)))
                continue
            health = await self._book.may_ask(view)
            if health is not None:
                limited = health.last_failure == FailureKind.RATE_LIMITED.value
                wait = health.retry_in_s(self._clock())
                attempts.resting[spec.key] = _Resting(spec, wait, health.gone, rate_limited=limited)
                continue
            if not view.budget.fits(weight.tokens):  # budgets before the 429
                attempts.resting[spec.key] = _Resting(spec, view.budget.wait_s(weight.tokens), False, spent=True)
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
                usage: Usage | None = None
                self._book.begin(spec, weight)
                settled = False
                try:
                    async for item in self._guarded(spec, prompt):
                        if isinstance(item, QuotaReport):
                            quota = item  # recorded with the success
                            continue
                        if isinstance(item, Thinking):
                            continue  # alive (the deadline saw it), but nothing to show
                        if not started:
                            started = True
                            reason = _fallback_reason(attempts) if index or passed_over else None
                            yield ModelStarted(model=spec, fallback_reason=reason, continues=continuing)
                        if isinstance(item, Usage):
                            usage = item
                            yield Spent(spec, item, estimated=False)
                            continue
                        sent.append(item.text)
                        pieces += 1
                        yield item
                    settled = True
                    await self._book.succeeded(spec, weight, usage=usage, quota=quota)
                    return
                except ProviderError as error:
                    settled = True
                    spent = Usage.estimated(prompt, pieces) if pieces else None  # text it generated was billed
                    self._report(spec, error)
                    attempts.failures.append((spec, error))
                    await self._book.failed(spec, weight, error, spent=spent)
                    if spent is not None:
                        yield Spent(spec, spent, estimated=True)
                    delay = retry_delay(error, attempt, started=started, settings=self._settings)
                    if delay is None:
                        break
                    await asyncio.sleep(delay)
                finally:
                    if not settled:  # the person left (or the turn was cancelled) mid-answer
                        self._book.abandon(spec, weight)
        raise _exhausted(attempts)

    def _pass_over(self, view: ModelView, weight: Weight, attempts: _Attempts) -> None:
        """Note why ``auto`` did not take the model it wanted (it rests, it is spent, or too small)."""
        if view.too_large(weight):
            attempts.failures.append((view.spec, _too_large(view.spec)))
        elif not view.health.available(view.now):
            limited = view.health.last_failure == FailureKind.RATE_LIMITED.value
            wait = view.health.retry_in_s(view.now)
            attempts.resting[view.spec.key] = _Resting(view.spec, wait, view.health.gone, rate_limited=limited)
        else:
            wait = view.budget.wait_s(weight.tokens)
            attempts.resting[view.spec.key] = _Resting(view.spec, wait, False, spent=True)

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


def _too_large(spec: ModelSpec) -> ProviderError:
    return ProviderError(
        provider=spec.provider,
        kind=FailureKind.TOO_LARGE,
        detail="longer than the model takes (context or tokens a minute)",
    )


def _describe(spec: ModelSpec, error: ProviderError) -> str:
    return words.model_failed(spec.label, error.kind.value)


def _fallback_reason(attempts: _Attempts) -> str | None:
    if attempts.failures:
        return _describe(*attempts.failures[-1])
    if attempts.resting:
        first = next(iter(attempts.resting.values()))
        return words.model_resting(first.spec.label, gone=first.gone, spent=first.spent)
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
        seen.setdefault(rest.spec.key, words.model_resting(rest.spec.label, gone=rest.gone, spent=rest.spent))
    all_retired = all(e.kind == FailureKind.MODEL_GONE for e in failures) and all(r.gone for r in resting)
    if all_retired:
        return NoProviderAvailable(words.no_model_answered(list(seen.values()), None, all_retired=True))
    return NoProviderAvailable(words.no_model_answered(list(seen.values()), retry_in), retry_in_s=retry_in)
