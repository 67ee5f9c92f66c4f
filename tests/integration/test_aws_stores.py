"""The AWS-backed pieces against moto: shared model health, the limits for people, and secrets."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import boto3
import pytest
from chimera.errors import NotConfigured
from chimera.providers.base import FailureKind, ProviderError
from chimera.providers.health import ModelHealth, after_failure, claim_probe
from chimera.secrets import with_secrets
from chimera.settings import ChatSettings, HistorySettings
from chimera.store import dynamodb as health_dynamodb
from chimera.store.dynamodb import DynamoHealthStore, DynamoRateLimiter, DynamoTokenLimiter
from moto import mock_aws

from tests.support.aws import Clock, OneRequestAtATime, create_state_table, use_fake_credentials


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_fake_credentials(monkeypatch)
    for setting in (
        "DATABASE_URL",
        "GROQ_API_KEY",
        "GOOGLE_GENERATIVE_AI_API_KEY",
        "SUPABASE_JWT_SECRET",
        "SUPABASE_URL",
    ):
        monkeypatch.delenv(setting, raising=False)  # only the secrets may supply these here
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> str:
    return create_state_table()


def rate_limited(retry_after_s: float = 30) -> ProviderError:
    return ProviderError(provider="groq", kind=FailureKind.RATE_LIMITED, detail="429", retry_after_s=retry_after_s)


def unavailable() -> ProviderError:
    return ProviderError(provider="groq", kind=FailureKind.UNAVAILABLE, detail="503", status=503)


def test_an_open_circuit_of_one_instance_is_seen_by_another(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health_dynamodb, "CACHE_S", 0.0)  # a second instance with a cold cache
    first, second = DynamoHealthStore(table_name=table), DynamoHealthStore(table_name=table)
    now = time.time()

    async def scenario() -> ModelHealth:
        assert await second.get("groq/m") == ModelHealth("groq/m")
        await first.update("groq/m", lambda h: after_failure(h, rate_limited(), now))
        # A stale read answers at once from the cache and refreshes it in the background.
        assert await second.get("groq/m") == ModelHealth("groq/m")
        await second.refreshed()
        return await second.get("groq/m")

    seen = asyncio.run(scenario())
    assert seen.state(now) == "open" and seen.retry_in_s(now) == pytest.approx(30)
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "model#groq/m"}})["Item"]
    assert int(item["expires_at"]["N"]) > seen.cooldown_until  # the TTL attribute is set


def test_concurrent_failures_from_many_instances_are_all_counted(table: str) -> None:
    """Eight instances record a failure at the same moment: a read-modify-write would lose some."""
    client = OneRequestAtATime()  # DynamoDB applies each request whole; moto's backend does not
    stores = [DynamoHealthStore(table_name=table, client=client) for _ in range(8)]
    now = time.time()
    start = threading.Barrier(len(stores))

    def record(store: DynamoHealthStore) -> None:
        start.wait()
        asyncio.run(store.update("groq/m", lambda h: after_failure(h, unavailable(), now)))

    threads = [threading.Thread(target=record, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = asyncio.run(DynamoHealthStore(table_name=table).get("groq/m"))
    assert (final.consecutive_failures, final.version) == (8, 8)
    assert final.state(now) == "open"  # three were enough to open it


def test_only_one_instance_probes_a_half_open_circuit(table: str) -> None:
    then = time.time() - 60  # opened a minute ago for 30 s: half-open now
    seed = DynamoHealthStore(table_name=table)
    asyncio.run(seed.update("groq/m", lambda h: after_failure(h, rate_limited(30), then)))
    stores = [DynamoHealthStore(table_name=table) for _ in range(4)]
    now = time.time()

    claims = [
        asyncio.run(s.update("groq/m", lambda h, t=f"probe-{i}": claim_probe(h, now, t))) for i, s in enumerate(stores)
    ]

    assert [c.probe_token for c in claims] == ["probe-0"] * 4  # the first claim holds for everyone
    assert not claims[-1].available(now)


def test_an_expired_item_is_no_state(table: str) -> None:
    """DynamoDB's TTL deletes items lazily (within days): reads must not trust an expired one."""
    long_ago = time.time() - 3 * 86_400
    past = DynamoHealthStore(table_name=table, clock=lambda: long_ago)
    asyncio.run(past.update("groq/m", lambda h: after_failure(h, rate_limited(10), long_ago)))

    health = asyncio.run(DynamoHealthStore(table_name=table).get("groq/m"))

    assert (health.state(time.time()), health.consecutive_failures) == ("closed", 0)
    assert health.version == 1  # ...but its version is kept, so the next write replaces it


def test_reads_are_cached_so_the_hot_path_skips_the_table(table: str) -> None:
    store = DynamoHealthStore(table_name=table)
    calls = 0
    real_read = store._read

    def counting_read(provider: str) -> ModelHealth | None:
        nonlocal calls
        calls += 1
        return real_read(provider)

    store._read = counting_read  # type: ignore[method-assign]

    async def many() -> None:
        for _ in range(50):
            await store.get("gemini")

    asyncio.run(many())
    assert calls == 1


def test_a_missing_table_degrades_to_healthy_instead_of_failing(aws: None) -> None:
    store = DynamoHealthStore(table_name="no-such-table")
    assert asyncio.run(store.get("groq/m")) == ModelHealth("groq/m")
    changed = asyncio.run(store.update("groq/m", lambda h: after_failure(h, unavailable(), time.time())))
    assert changed.consecutive_failures == 1  # logged, not raised: the change still applies here


def test_secrets_fill_the_secret_settings(aws: None) -> None:
    client = boto3.client("secretsmanager")
    shared = client.create_secret(
        Name="chimera/app", SecretString=json.dumps({"DATABASE_URL": "postgresql://db", "SUPABASE_JWT_SECRET": "s"})
    )
    providers = client.create_secret(Name="chimera/providers", SecretString=json.dumps({"GROQ_API_KEY": "gsk"}))
    settings = ChatSettings(  # type: ignore[call-arg]
        _env_file=None, chimera_stage="prod", chimera_secret_ids=f"{shared['ARN']},{providers['Name']}"
    )

    resolved = with_secrets(settings)

    assert resolved.database_url is not None and resolved.database_url.get_secret_value() == "postgresql://db"
    assert resolved.groq_api_key is not None and resolved.groq_api_key.get_secret_value() == "gsk"
    assert resolved.supabase_jwt_secret is not None
    assert "gsk" not in repr(resolved) and "postgresql://db" not in repr(resolved)


def test_a_half_filled_secret_says_what_is_missing_and_where(aws: None) -> None:
    client = boto3.client("secretsmanager")
    created = client.create_secret(Name="chimera/partial", SecretString=json.dumps({"SUPABASE_JWT_SECRET": "s"}))
    settings = ChatSettings(_env_file=None, chimera_stage="prod", chimera_secret_ids=created["ARN"])  # type: ignore[call-arg]

    missing = with_secrets(settings).missing()

    assert missing == [
        "The database URL is not set. Please put DATABASE_URL in the secret chimera/partial.",
        "The provider keys are not set. Please put GROQ_API_KEY and/or GOOGLE_GENERATIVE_AI_API_KEY "
        "in the secret chimera/partial.",
    ]


def test_a_function_takes_only_the_keys_its_settings_have(aws: None) -> None:
    client = boto3.client("secretsmanager")
    client.create_secret(
        Name="chimera/history-app", SecretString=json.dumps({"DATABASE_URL": "postgresql://db", "GROQ_API_KEY": "gsk"})
    )
    history = with_secrets(HistorySettings(_env_file=None, chimera_secret_ids="chimera/history-app"))  # type: ignore[call-arg]
    assert history.missing() == [
        "Sign-in is not configured. Please put SUPABASE_JWT_SECRET or SUPABASE_URL in the secret chimera/history-app."
    ]
    assert not hasattr(history, "groq_api_key")


@pytest.mark.parametrize("content", ["not json", json.dumps(["a", "list"])])
def test_a_secret_that_is_not_a_json_object_is_a_sentence_not_a_crash(aws: None, content: str) -> None:
    boto3.client("secretsmanager").create_secret(Name="chimera/odd", SecretString=content)
    with pytest.raises(
        NotConfigured,
        match=r'The secret chimera/odd is not a JSON object\. Please put \{"KEY": "value"\} pairs in it\.$',
    ):
        with_secrets(ChatSettings(_env_file=None, chimera_secret_ids="chimera/odd"))  # type: ignore[call-arg]


def test_a_secret_that_cannot_be_read_names_it(aws: None) -> None:
    with pytest.raises(
        NotConfigured, match=r"The secret chimera/absent could not be read \(\w+\)\. Please check that it exists"
    ):
        with_secrets(ChatSettings(_env_file=None, chimera_secret_ids="chimera/absent"))  # type: ignore[call-arg]


def test_two_instances_share_one_chat_window(table: str) -> None:
    clock = Clock()
    first, second = (DynamoRateLimiter(table_name=table, limit=3, clock=clock) for _ in range(2))

    async def chat(limiter: DynamoRateLimiter, key: str = "person#a", after_s: float = 1.0) -> float | None:
        clock.now += after_s
        return (await limiter.acquire(key)).retry_after_s

    async def scenario() -> list[float | None]:
        return [
            *[await chat(limiter) for limiter in (first, second, first, second)],
            await chat(second, "person#b"),  # another person has their own window
            await chat(first, after_s=56.0),  # at +61 the first chat (at +1) has left the window
            await chat(second, after_s=0.0),
        ]

    answers = asyncio.run(scenario())
    assert answers[:3] == [None, None, None]
    assert answers[3] == pytest.approx(57.0)  # at +4, until the chat at +1 leaves at +61
    assert answers[4:6] == [None, None]
    assert answers[6] == pytest.approx(1.0)  # full again, until the chat at +2 leaves at +62


def test_a_chat_given_back_on_one_instance_frees_its_place_on_another(table: str) -> None:
    clock = Clock()
    first, second = (DynamoRateLimiter(table_name=table, limit=1, clock=clock) for _ in range(2))

    async def scenario() -> tuple[float | None, float | None]:
        taken = await first.acquire("person#a")
        clock.now += 1
        refused = await second.acquire("person#a")
        await first.release("person#a", taken.at)
        return refused.retry_after_s, (await second.acquire("person#a")).retry_after_s

    assert asyncio.run(scenario()) == (pytest.approx(59.0), None)


def test_concurrent_chats_from_many_instances_take_exactly_the_limit(table: str) -> None:
    clock = Clock()
    client = OneRequestAtATime()
    limiters = [DynamoRateLimiter(table_name=table, limit=5, clock=clock, client=client) for _ in range(12)]
    start = threading.Barrier(len(limiters))
    answers: list[float | None] = []

    def chat(limiter: DynamoRateLimiter) -> None:
        start.wait()
        answers.append(asyncio.run(limiter.acquire("address#192.0.2.1")).retry_after_s)

    threads = [threading.Thread(target=chat, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 12 and answers.count(None) == 5  # no place lost, none given twice
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "rate#address#192.0.2.1"}})["Item"]
    assert len(item["hits"]["L"]) == 5


def test_an_expired_window_item_is_no_state(table: str) -> None:
    clock = Clock()
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "pk": {"S": "rate#person#a"},
            "hits": {"L": [{"N": repr(clock.now + 30)}]},  # even a time ahead of ours: the item's time is up
            "version": {"N": "4"},
            "expires_at": {"N": str(int(clock.now) - 1)},
        },
    )
    limiter = DynamoRateLimiter(table_name=table, limit=1, clock=clock)
    assert asyncio.run(limiter.acquire("person#a")).retry_after_s is None


def test_two_instances_share_a_persons_tokens_today(table: str) -> None:
    clock = Clock()
    first, second = (DynamoTokenLimiter(table_name=table, limit=1_000, clock=clock) for _ in range(2))

    async def scenario() -> list[float | None]:
        await first.record("a", 600)
        waits = [await second.wait("a")]
        await second.record("a", 400)
        waits += [await first.wait("a"), await second.wait("b")]
        clock.now += 12 * 3600  # midnight UTC: a new day
        return [*waits, await first.wait("a")]

    assert asyncio.run(scenario()) == [None, 12 * 3600, None, None]


def test_concurrent_token_records_are_all_counted(table: str) -> None:
    clock = Clock()
    client = OneRequestAtATime()
    limiters = [DynamoTokenLimiter(table_name=table, limit=10**9, clock=clock, client=client) for _ in range(10)]
    start = threading.Barrier(len(limiters))

    def record(limiter: DynamoTokenLimiter) -> None:
        start.wait()
        for _ in range(5):
            asyncio.run(limiter.record("a", 7))

    threads = [threading.Thread(target=record, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "tokens#a#2026-01-01"}})["Item"]
    assert int(item["tokens"]["N"]) == 10 * 5 * 7
    assert int(item["expires_at"]["N"]) == 1_767_312_000 + 86_400  # a day after the day it counts


def test_an_expired_token_item_is_no_state(table: str) -> None:
    clock = Clock()
    item = {"pk": {"S": "tokens#a#2026-01-01"}, "tokens": {"N": "5000"}, "expires_at": {"N": str(int(clock.now) - 1)}}
    boto3.client("dynamodb").put_item(TableName=table, Item=item)
    assert asyncio.run(DynamoTokenLimiter(table_name=table, limit=1_000, clock=clock).wait("a")) is None


def test_a_missing_limits_table_lets_chats_through(aws: None) -> None:
    limiter = DynamoRateLimiter(table_name="no-such-table", limit=1)
    tokens = DynamoTokenLimiter(table_name="no-such-table", limit=1)

    async def scenario() -> list[float | None]:
        await tokens.record("p", 5)
        return [
            (await limiter.acquire("person#p")).retry_after_s,
            (await limiter.acquire("person#p")).retry_after_s,
            await tokens.wait("p"),
        ]

    assert asyncio.run(scenario()) == [None, None, None]
