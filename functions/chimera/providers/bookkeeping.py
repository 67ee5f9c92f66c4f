"""What the router knows about each model, and what it records after asking one.

Two shared stores feed it: health (a circuit per model, ``health.py``) and free-tier budgets
(``budget.py``). Both are read from caches of about a second, so a turn's view of every model costs
no round trip on the hot path. This instance's own turns that are still answering are added to the
shared counts (``_in_flight``): the shared counts learn of a turn only when it ends.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from chimera.providers.base import ProviderError, QuotaReport, Usage
from chimera.providers.budget import BudgetCounts, BudgetStore, budget
from chimera.providers.catalogue import Catalogue, ModelSpec
from chimera.providers.choose import ModelView, Weight
from chimera.providers.health import HealthStore, ModelHealth, after_failure, after_success, claim_probe


class ModelBook:
    def __init__(
        self,
        *,
        catalogue: Catalogue,
        providers: set[str],
        health: HealthStore,
        budgets: BudgetStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._models = [spec for spec in catalogue.models if spec.provider in providers]
        self._health = health
        self._budgets = budgets
        self._clock = clock
        self._in_flight: dict[str, tuple[int, int]] = {}  # health_key -> (requests, tokens)

    async def views(self) -> dict[str, ModelView]:
        """Every configured model's health and budget now, by model key."""
        now = self._clock()
        counts = await self._budgets.read([spec.health_key for spec in self._models])
        views: dict[str, ModelView] = {}
        for spec in self._models:
            spent = counts.get(spec.health_key) or BudgetCounts()
            requests, tokens = self._in_flight.get(spec.health_key, (0, 0))
            if requests:
                spent = spent.plus(requests=requests, tokens=tokens, now=now)
            left = budget(spec.free_tier, spent, now)
            views[spec.key] = ModelView(spec, await self._health.get(spec.health_key), left, now)
        return views

    async def may_ask(self, view: ModelView) -> ModelHealth | None:
        """None if this turn may ask the model; else its health, which says how long it rests.

        A closed circuit is asked. An open one rests. A half-open one is asked by exactly one turn
        across all instances, the one whose claim of the probe the shared store kept.
        """
        health, now = view.health, self._clock()
        state = health.state(now)
        if state == "closed":
            return None
        if state == "half-open" and now >= health.probe_until:
            token = uuid.uuid4().hex
            key = view.spec.health_key
            health = await self._health.update(key, lambda current: claim_probe(current, now, token))
            if health.probe_token == token:
                return None
        return health

    def begin(self, spec: ModelSpec, weight: Weight) -> None:
        requests, tokens = self._in_flight.get(spec.health_key, (0, 0))
        self._in_flight[spec.health_key] = (requests + 1, tokens + weight.tokens)

    async def succeeded(
        self, spec: ModelSpec, weight: Weight, *, usage: Usage | None, quota: QuotaReport | None
    ) -> None:
        self._end(spec, weight)
        now = self._clock()
        await self._health.update(spec.health_key, lambda health: after_success(health, quota, now))
        tokens = usage.input_tokens + usage.output_tokens if usage else weight.tokens
        await self._budgets.spend(spec.health_key, requests=1, tokens=tokens, report=quota)

    async def failed(self, spec: ModelSpec, weight: Weight, error: ProviderError, *, spent: Usage | None) -> None:
        self._end(spec, weight)
        # The request's own fault (too large, invalid) says nothing about the model: nobody else pays.
        if not error.request_fault:
            now = self._clock()
            await self._health.update(spec.health_key, lambda health: after_failure(health, error, now))
        tokens = spent.input_tokens + spent.output_tokens if spent else 0
        await self._budgets.spend(spec.health_key, requests=1, tokens=tokens, report=error.quota)

    def abandon(self, spec: ModelSpec, weight: Weight) -> None:
        """The turn went away mid-answer: it no longer holds budget here (what it spent is in the
        person's usage, not in the shared count: a cancelled turn cannot wait on a store)."""
        self._end(spec, weight)

    def _end(self, spec: ModelSpec, weight: Weight) -> None:
        requests, tokens = self._in_flight.get(spec.health_key, (1, weight.tokens))
        if requests <= 1:
            self._in_flight.pop(spec.health_key, None)
        else:
            self._in_flight[spec.health_key] = (requests - 1, tokens - weight.tokens)
