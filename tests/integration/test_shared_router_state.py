"""Two Lambda instances on one runtime-state table (moto): what one router learns, the other knows.

Each instance has its own router, its own SDK providers (against the provider simulator) and its
own ``DynamoHealthStore`` and ``DynamoBudgetStore``, as two warm Lambdas would; only the table is
shared. The caches are set to ``cache_s=0``: every health read asks the table, and every budget
read after a process's first (which waits on the table) starts a refresh in the background, which
a test awaits where it matters. One injected clock drives every instance: no test waits for, or
races, the wall clock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from random import Random
from typing import Any

import boto3
import pytest
from chimera import words
from chimera.dev.simulator import ProviderSimulator, Scenario
from chimera.providers.base import ChatProvider, FailureKind, PromptMessage, ProviderError, QuotaReport, TextDelta
from chimera.providers.budget import MINUTE_S, BudgetCounts, budget, minute_of
from chimera.providers.catalogue import ModelSpec, load_catalogue
from chimera.providers.choose import ModelView
from chimera.providers.health import after_failure
from chimera.providers.router import ModelStarted, Router
from chimera.runtime import build_providers
from chimera.settings import ChatSettings
from chimera.store.dynamodb import DynamoBudgetStore, DynamoHealthStore
from chimera.store.memory import MemoryBudgetStore
from moto import mock_aws

from tests.support.aws import Clock, OneRequestAtATime, create_state_table, use_fake_credentials

CATALOGUE = load_catalogue()
FAST = CATALOGUE.spec("groq-llama-8b")  # auto's choice for a short plain question
LARGE = CATALOGUE.spec("groq-llama-70b")
HI = [PromptMessage("user", "hi")]


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_fake_credentials(monkeypatch)
    with mock_aws():
        yield create_state_table()


@dataclass
class Instance:
    """One Lambda instance: its own providers, stores and router; only the table is shared."""

    router: Router
    health: DynamoHealthStore
    budgets: DynamoBudgetStore


@asynccontextmanager
async def lambda_instance(table: str, simulator: ProviderSimulator, clock: Clock) -> AsyncIterator[Instance]:
    settings = ChatSettings(
        _env_file=None,
        groq_api_key="test-key",
        google_generative_ai_api_key="test-key",
        groq_base_url=simulator.groq_base_url,
        google_gemini_base_url=simulator.gemini_base_url,
        retry_base_delay_s=0.01,
    )
    providers: dict[str, ChatProvider] = build_providers(settings)
    client = OneRequestAtATime()  # DynamoDB applies each request whole; moto's backend does not
    health = DynamoHealthStore(table_name=table, client=client, clock=clock, cache_s=0)
    budgets = DynamoBudgetStore(table_name=table, client=client, clock=clock, cache_s=0)
    router = Router(
        providers=providers,
        health=health,
        budgets=budgets,
        settings=settings,
        catalogue=CATALOGUE,
        clock=clock,
        rng=Random(8),
    )
    try:
        yield Instance(router, health, budgets)
    finally:
        for provider in providers.values():
            await provider.aclose()


@dataclass
class Turn:
    started: list[ModelStarted]
    text: str


async def chat(instance: Instance, choice: str) -> Turn:
    """One turn of "hi": the models that answered (and why not the first choice) and the text."""
    started: list[ModelStarted] = []
    text: list[str] = []
    async for event in instance.router.stream(choice=choice, messages=HI):
        if isinstance(event, ModelStarted):
            started.append(event)
        elif isinstance(event, TextDelta):
            text.append(event.text)
    return Turn(started, "".join(text))


def asked(simulator: ProviderSimulator, *, since: int = 0) -> list[str]:
    """The provider models the simulator was asked for, in order (both providers)."""
    with simulator.state.lock:
        return [request.model for request in simulator.state.seen[since:]]


def seen_count(simulator: ProviderSimulator) -> int:
    with simulator.state.lock:
        return len(simulator.state.seen)


async def background_refresh() -> None:
    """Wait for the budget refresh a stale read started in the background (an event, not a clock)."""
    for task in asyncio.all_tasks():
        if task.get_name() == "budget-refresh":
            await task


# --- An open circuit ------------------------------------------------------------------------------


def test_a_429_on_one_instance_rests_the_model_on_another(table: str, simulator: ProviderSimulator) -> None:
    clock = Clock()
    simulator.state.script("groq", Scenario(status=429, retry_after_s=600))  # far over MAX_RETRY_AFTER_WAIT_S

    async def scenario() -> tuple[Turn, Turn, int, dict[str, ModelView]]:
        async with lambda_instance(table, simulator, clock) as a, lambda_instance(table, simulator, clock) as b:
            first = await chat(a, "groq-llama-8b")
            before = seen_count(simulator)
            clock.now += 5
            second = await chat(b, "groq-llama-8b")  # b's very first turn: nothing of a's in its memory
            return first, second, before, await b.router.book.views()

    first, second, before, views = asyncio.run(scenario())

    # Instance a met the 429 and fell back to Groq's other model.
    assert [s.model.key for s in first.started] == ["groq-llama-70b"]
    assert asked(simulator)[:before] == [FAST.provider_model, LARGE.provider_model]
    # Instance b never asked the resting model, and told the person why it answered with another.
    assert asked(simulator, since=before) == [LARGE.provider_model]
    assert [(s.model.key, s.fallback_reason) for s in second.started] == [
        ("groq-llama-70b", words.model_resting(FAST.label, gone=False))
    ]
    assert second.text
    fast = views["groq-llama-8b"]
    assert not fast.health.available(clock.now)
    assert fast.health.last_failure == FailureKind.RATE_LIMITED.value
    assert fast.health.retry_in_s(clock.now) == pytest.approx(595)
    assert views["groq-llama-70b"].health.available(clock.now)


# --- A spent budget -------------------------------------------------------------------------------


def test_a_minute_budget_spent_on_one_instance_is_passed_over_on_another(
    table: str, simulator: ProviderSimulator
) -> None:
    clock = Clock()  # 12:00:00, the start of a minute

    async def scenario() -> tuple[list[ModelSpec], Turn, int, list[ModelSpec]]:
        async with lambda_instance(table, simulator, clock) as a, lambda_instance(table, simulator, clock) as b:
            await chat(a, "groq-llama-8b")  # one real turn: its usage and Groq's quota headers are recorded
            rpm = FAST.free_tier.rpm
            assert rpm is not None
            # ...and the rest of the minute's requests, as a busy instance would spend them.
            await asyncio.gather(
                *(a.budgets.spend(FAST.health_key, requests=1, tokens=10, report=None) for _ in range(rpm - 1))
            )
            clock.now += 20
            _, _, spent_chain = await b.router.plan(choice="auto", messages=HI)
            before = seen_count(simulator)
            turn = await chat(b, "auto")
            clock.now += MINUTE_S  # the next minute: the minute's budget is back
            _, _, next_chain = await b.router.plan(choice="auto", messages=HI)
            return spent_chain, turn, before, next_chain

    spent_chain, turn, before, next_chain = asyncio.run(scenario())

    assert spent_chain[0].key != "groq-llama-8b"
    assert FAST.provider_model not in asked(simulator, since=before)
    assert turn.started[0].fallback_reason == words.model_resting(FAST.label, gone=False, spent=True)
    assert turn.text
    assert next_chain[0].key == "groq-llama-8b"


def test_a_spent_budget_shows_in_the_other_instances_views(table: str, simulator: ProviderSimulator) -> None:
    clock = Clock(1_767_268_800.0 + 15)  # 45 s before the minute ends

    async def scenario() -> dict[str, ModelView]:
        async with lambda_instance(table, simulator, clock) as a, lambda_instance(table, simulator, clock) as b:
            tpm = FAST.free_tier.tpm
            assert tpm is not None
            await a.budgets.spend(FAST.health_key, requests=1, tokens=tpm - 100, report=None)
            return await b.router.book.views()

    fast = asyncio.run(scenario())["groq-llama-8b"].budget
    assert (fast.tokens_minute, fast.requests_minute) == (100, 29)
    assert not fast.fits(300)  # a plain answer is budgeted at 300 tokens
    assert fast.wait_s(300) == pytest.approx(45)


# --- Concurrent updates ---------------------------------------------------------------------------


def test_concurrent_spends_from_two_instances_are_all_counted(table: str) -> None:
    """Two instances, each with many spends in flight at once: ADD counters lose none."""
    clock = Clock()
    client = OneRequestAtATime()  # DynamoDB applies each request whole; moto's backend does not
    stores = [DynamoBudgetStore(table_name=table, client=client, clock=clock, cache_s=0) for _ in range(2)]
    start = threading.Barrier(len(stores))
    per_store, tokens = 40, 7

    def spend_many(store: DynamoBudgetStore) -> None:
        async def many() -> None:
            await asyncio.gather(
                *(store.spend(FAST.health_key, requests=1, tokens=tokens, report=None) for _ in range(per_store))
            )

        start.wait()
        asyncio.run(many())

    threads = [threading.Thread(target=spend_many, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    fresh = DynamoBudgetStore(table_name=table, clock=clock, cache_s=0)
    counts = asyncio.run(fresh.read([FAST.health_key]))[FAST.health_key]
    total = len(stores) * per_store
    assert (counts.minute_requests, counts.minute_tokens) == (total, total * tokens)
    assert (counts.day_requests, counts.day_tokens) == (total, total * tokens)


def test_concurrent_failures_recorded_by_two_instances_are_all_counted(table: str) -> None:
    """Two instances, each recording many failures at once (several turns failing on one warm
    instance). test_aws_stores.py's test_concurrent_failures_from_many_instances_are_all_counted
    has eight instances recording one each; here each instance also contends with itself."""
    clock = Clock()
    client = OneRequestAtATime()
    stores = [DynamoHealthStore(table_name=table, client=client, clock=clock, cache_s=0) for _ in range(2)]
    start = threading.Barrier(len(stores))
    per_store = 20
    error = ProviderError(provider="groq", kind=FailureKind.UNAVAILABLE, detail="503", status=503)

    def record_many(store: DynamoHealthStore) -> None:
        async def many() -> None:
            await asyncio.gather(
                *(store.update(FAST.health_key, lambda h: after_failure(h, error, clock.now)) for _ in range(per_store))
            )

        start.wait()
        asyncio.run(many())

    threads = [threading.Thread(target=record_many, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = asyncio.run(DynamoHealthStore(table_name=table, clock=clock, cache_s=0).get(FAST.health_key))
    total = len(stores) * per_store
    assert (final.consecutive_failures, final.version) == (total, total)
    assert final.state(clock.now) == "open"


# --- Expired items --------------------------------------------------------------------------------


def test_expired_budget_items_do_not_count(table: str, simulator: ProviderSimulator) -> None:
    """A past minute's counter is not this minute's, and DynamoDB's TTL deletes lazily (within
    days): a report item whose ``expires_at`` has passed is no state, whatever it says."""
    clock = Clock()
    key = FAST.health_key
    rpm = FAST.free_tier.rpm
    assert rpm is not None

    async def scenario() -> tuple[BudgetCounts, list[ModelSpec]]:
        async with lambda_instance(table, simulator, clock) as a:
            await a.budgets.spend(key, requests=rpm, tokens=100, report=None)  # the whole of 12:00's minute
        clock.now += MINUTE_S  # 12:01
        boto3.client("dynamodb").put_item(
            TableName=table,
            Item={
                "pk": {"S": f"budget#{key}#report"},
                "requests_left": {"N": "0"},  # "nothing left today"...
                "requests_left_until": {"N": repr(clock.now + 3600)},
                "tokens_left": {"N": "0"},
                "tokens_left_until": {"N": repr(clock.now + 3600)},
                "expires_at": {"N": str(int(clock.now) - 1)},  # ...but the item's time is up
            },
        )
        async with lambda_instance(table, simulator, clock) as b:
            counts = (await b.budgets.read([key]))[key]
            _, _, chain = await b.router.plan(choice="auto", messages=HI)
        return counts, chain

    counts, chain = asyncio.run(scenario())

    assert counts.minute == minute_of(clock.now)
    assert (counts.minute_requests, counts.minute_tokens) == (0, 0)
    assert (counts.day_requests, counts.day_tokens) == (rpm, 100)  # the day's counter still counts
    assert (counts.requests_left, counts.tokens_left) == (None, None)
    assert budget(FAST.free_tier, counts, clock.now).fits(300)
    assert chain[0].key == "groq-llama-8b"


# --- The budget store's reads and writes ----------------------------------------------------------


def test_a_stale_read_answers_at_once_and_the_refresh_brings_the_other_instances_spend(table: str) -> None:
    clock = Clock()
    a, b = (DynamoBudgetStore(table_name=table, clock=clock, cache_s=0) for _ in range(2))
    key = FAST.health_key

    async def scenario() -> list[int]:
        first = (await b.read([key]))[key]  # a process's first read waits on the table
        await a.spend(key, requests=3, tokens=30, report=None)
        stale = (await b.read([key]))[key]  # answered from b's memory; the refresh runs behind it
        await background_refresh()
        fresh = (await b.read([key]))[key]
        return [first.minute_requests, stale.minute_requests, fresh.minute_requests]

    assert asyncio.run(scenario()) == [0, 0, 3]


def test_a_report_without_one_fact_keeps_the_fact_another_instance_stored(table: str) -> None:
    """Groq's headers come one by one: a report of tokens alone must not erase the "no requests left
    today" another instance stored (the table used to be overwritten whole, which memory never did)."""
    clock = Clock()
    key = FAST.health_key
    day_spent = QuotaReport(remaining_requests=0, remaining_tokens=6000, requests_reset_s=3600, tokens_reset_s=20)
    tokens_only = QuotaReport(remaining_requests=None, remaining_tokens=5000, requests_reset_s=None, tokens_reset_s=30)
    a, b, fresh = (DynamoBudgetStore(table_name=table, clock=clock, cache_s=0) for _ in range(3))
    memory = MemoryBudgetStore(clock=clock)

    async def scenario() -> tuple[BudgetCounts, BudgetCounts]:
        await asyncio.gather(
            a.spend(key, requests=1, tokens=100, report=day_spent),
            memory.spend(key, requests=1, tokens=100, report=day_spent),
        )
        clock.now += 1
        await asyncio.gather(
            b.spend(key, requests=1, tokens=100, report=tokens_only),
            memory.spend(key, requests=1, tokens=100, report=tokens_only),
        )
        return (await fresh.read([key]))[key], (await memory.read([key]))[key]

    shared, remembered = asyncio.run(scenario())

    assert shared == remembered  # the table keeps what one process's memory keeps
    assert (shared.requests_left, shared.tokens_left) == (0, 5000)
    left = budget(FAST.free_tier, shared, clock.now)
    assert not left.fits(300) and left.wait_s(300) == pytest.approx(3599)


class Throttled:
    """A DynamoDB client under load: each BatchGetItem serves at most ``serves`` keys and leaves the
    rest in ``UnprocessedKeys``, as DynamoDB does when it throttles, until ``calls`` reaches ``until``."""

    def __init__(self, *, serves: int, until: int = 1_000) -> None:
        self._client = boto3.client("dynamodb")
        self.serves, self.until, self.calls = serves, until, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        ((table, request),) = kwargs["RequestItems"].items()
        serves = len(request["Keys"]) if self.calls >= self.until else self.serves
        served, left = request["Keys"][:serves], request["Keys"][serves:]
        answer: dict[str, Any] = {"Responses": {table: []}, "UnprocessedKeys": {}}
        if served:
            answer = self._client.batch_get_item(RequestItems={table: {"Keys": served}})
        if left:
            answer["UnprocessedKeys"] = {table: {"Keys": left}}
        return answer


def test_many_models_are_read_in_pages_and_unprocessed_keys_asked_again(table: str) -> None:
    """Three items a model: forty models are 120 keys, over BatchGetItem's 100, and a throttled
    table answers part of each page."""
    clock = Clock()
    keys = [f"groq/model-{i}" for i in range(40)]
    writer = DynamoBudgetStore(table_name=table, clock=clock, cache_s=0)

    async def spend_all() -> None:
        await asyncio.gather(*(writer.spend(k, requests=i + 1, tokens=10 * i, report=None) for i, k in enumerate(keys)))

    asyncio.run(spend_all())
    client = Throttled(serves=30)
    reader = DynamoBudgetStore(table_name=table, client=client, clock=clock, cache_s=0)

    counts = asyncio.run(reader.read([*keys, keys[0]]))  # two choices may name one provider model

    assert [(counts[k].minute_requests, counts[k].day_tokens) for k in keys] == [(i + 1, 10 * i) for i in range(40)]
    assert client.calls > 2  # it took more than the two pages


def test_a_table_that_keeps_throttling_cannot_hold_a_turn(table: str, caplog: pytest.LogCaptureFixture) -> None:
    """Keys DynamoDB keeps leaving unprocessed are asked again a few times, then the read gives up
    (budgets are advice), instead of asking the table in a loop until it answers."""
    clock = Clock()
    key = FAST.health_key
    asyncio.run(DynamoBudgetStore(table_name=table, clock=clock).spend(key, requests=5, tokens=50, report=None))
    client = Throttled(serves=0, until=50)
    reader = DynamoBudgetStore(table_name=table, client=client, clock=clock, cache_s=0)

    counts = asyncio.run(reader.read([key]))[key]

    assert counts == BudgetCounts()  # unknown, so unspent: the provider's 429 still has the last word
    assert client.calls < client.until  # it gave up before the table would have answered
    assert "budget table read kept leaving keys unprocessed" in caplog.text


def test_a_failing_table_never_fails_a_turn(
    table: str, simulator: ProviderSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Health and budgets are advice: a warm instance carries on with what it knew, a cold one with
    "healthy and unspent", and every turn is answered."""
    clock = Clock()

    async def scenario() -> tuple[list[Turn], BudgetCounts]:
        async with lambda_instance(table, simulator, clock) as warm:
            turns = [await chat(warm, "groq-llama-8b")]
            boto3.client("dynamodb").delete_table(TableName=table)
            turns.append(await chat(warm, "groq-llama-8b"))
            await background_refresh()  # it met the missing table
            known = (await warm.budgets.read([FAST.health_key]))[FAST.health_key]
        async with lambda_instance(table, simulator, clock) as cold:
            turns.append(await chat(cold, "groq-llama-8b"))  # its very first read fails
        return turns, known

    turns, known = asyncio.run(scenario())

    assert [(t.started[0].model.key, bool(t.text)) for t in turns] == [("groq-llama-8b", True)] * 3
    assert known.minute_requests == 2  # the warm instance still counts its own two turns
    assert "budget table read failed" in caplog.text and "budget table update failed" in caplog.text
