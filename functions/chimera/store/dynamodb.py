"""Runtime state shared by every Lambda instance through one DynamoDB table.

Items: `model#<provider>/<model id>` for model health (versioned: conditional writes),
`budget#<provider>/<model id>#…` for free-tier budgets (atomic counters),
`rate#person#<user>` / `rate#address#<ip>` for the last minute's chats and `tokens#<user>#<day>`
for a person's tokens today (the limits for people).

Health reads are cached in-process for about a second, so the hot path almost never touches the
table for them (the limits are read every time: a cached count would let chats through);
boto3 is synchronous, so every call runs in a worker thread, never on the event loop. Health is
advice: if DynamoDB fails, we log it and carry on with what we know.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chimera.limits.policy import (
    DAY_S,
    WINDOW_S,
    Clock,
    Verdict,
    admit,
    seconds_to_midnight,
    utc_day,
    without,
)
from chimera.providers.base import QuotaReport
from chimera.providers.budget import MINUTE_S, BudgetCounts, minute_of
from chimera.providers.health import ModelHealth

logger = logging.getLogger(__name__)

CACHE_S = 1.0
KEEP_S = 86_400  # rows expire (DynamoDB TTL) a day after their cooldown
UPDATE_ATTEMPTS = 10  # conditional writes before giving up on a contended item (health is advice)
LIMIT_ATTEMPTS = 20  # a network's window is contended by its people's chats; then fail open


class DynamoHealthStore:
    """Model health shared by every instance. Reads are cached for about a second; a change is a
    conditional write on the version it was computed from, re-read and re-applied on a conflict, so
    two instances that record failures at once lose neither."""

    def __init__(
        self,
        *,
        table_name: str,
        client: Any = None,
        clock: Callable[[], float] = time.time,
        cache_s: float | None = None,
    ) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock
        self._cache_s = cache_s  # None: the module's CACHE_S, looked up on each read
        self._cache: dict[str, tuple[float, ModelHealth]] = {}
        self._refreshing: dict[str, asyncio.Task[ModelHealth]] = {}
        # One write at a time per model from this instance: its own turns failing together queue
        # here instead of racing each other's version, so the table's optimistic retries are left
        # for other instances (with 20 of its own at once, some ran out of attempts and were lost).
        self._writing: dict[str, asyncio.Lock] = {}

    async def get(self, key: str) -> ModelHealth:
        """The cached health; a stale one is answered at once and refreshed in the background (a
        Lambda serving one turn at a time would otherwise wait on the table on nearly every turn).
        Only a key never read before waits for the table."""
        cached = self._cache.get(key)
        if cached is None:
            return await self._load(key)
        cache_s = CACHE_S if self._cache_s is None else self._cache_s
        if time.monotonic() - cached[0] >= cache_s and key not in self._refreshing:
            task = asyncio.get_running_loop().create_task(self._load(key), name="health-refresh")
            self._refreshing[key] = task
            task.add_done_callback(lambda _: self._refreshing.pop(key, None))
        return cached[1]

    async def refreshed(self) -> None:
        """Wait for the background refreshes under way (tests, and a clean shutdown)."""
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    async def _load(self, key: str) -> ModelHealth:
        cached = self._cache.get(key)
        health = await asyncio.to_thread(self._read, key)
        if health is None:  # the table failed us: keep what we had, or assume healthy
            health = cached[1] if cached else ModelHealth(key=key)
        self._remember(health)
        return health

    async def update(self, key: str, change: Callable[[ModelHealth], ModelHealth]) -> ModelHealth:
        cached = await self.get(key)
        if change(cached) == cached:
            return cached  # the common case (a success on a healthy model): no write, no round trip
        async with self._writing.setdefault(key, asyncio.Lock()):
            stored = await asyncio.to_thread(self._update, key, change)
        if stored is None:  # the table failed us: health is advice, carry on with the change locally
            stored = change(cached)
        self._remember(stored)
        return stored

    def _remember(self, health: ModelHealth) -> None:
        self._cache[health.key] = (time.monotonic(), health)

    def _update(self, key: str, change: Callable[[ModelHealth], ModelHealth]) -> ModelHealth | None:
        for attempt in range(UPDATE_ATTEMPTS):
            if attempt:  # after a conflict: a short random pause, so contenders do not collide again in step
                _back_off(min(attempt - 1, 5))
            current = self._read(key, consistent=True)
            if current is None:
                return None
            changed = change(current)
            if changed == current:
                return current
            stored = replace(changed, version=current.version + 1)
            written = _put_if_version(
                self._client, self._table, self._item(stored), seen=current.version, what="health"
            )
            if written is None:
                return None
            if not written:
                continue  # another instance wrote first: read its version and apply ours to it
            return stored
        logger.warning("health table write kept conflicting", extra={"key": key})
        return None

    def _read(self, key: str, *, consistent: bool = False) -> ModelHealth | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": f"model#{key}"}}, ConsistentRead=consistent
            ).get("Item")
        except (BotoCoreError, ClientError) as exc:
            logger.warning("health table read failed", extra={"error": type(exc).__name__})
            return None
        if item is None:
            return ModelHealth(key=key)
        version = int(item.get("version", {}).get("N", "0"))
        if int(item["expires_at"]["N"]) < self._clock():
            return ModelHealth(key=key, version=version)  # TTL deletes lazily: an expired item is no state
        return ModelHealth(
            key=key,
            cooldown_until=float(item["cooldown_until"]["N"]),
            consecutive_failures=int(item["consecutive_failures"]["N"]),
            last_failure=item.get("last_failure", {}).get("S"),
            probe_token=item.get("probe_token", {}).get("S"),
            probe_until=float(item.get("probe_until", {}).get("N", "0")),
            version=version,
        )

    def _item(self, health: ModelHealth) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": f"model#{health.key}"},
            "cooldown_until": {"N": repr(health.cooldown_until)},
            "consecutive_failures": {"N": str(health.consecutive_failures)},
            "probe_until": {"N": repr(health.probe_until)},
            "version": {"N": str(health.version)},
            "expires_at": {"N": str(int(max(health.cooldown_until, self._clock()) + KEEP_S))},
        }
        if health.last_failure:
            item["last_failure"] = {"S": health.last_failure}
        if health.probe_token:
            item["probe_token"] = {"S": health.probe_token}
        return item


class DynamoRateLimiter:
    """Chats a minute per key, shared by every instance.

    Item ``rate#<key>`` holds the times of the key's chats in the last minute and a version. An
    allowed chat is a conditional write on the version it was computed from, re-read and computed
    again on a conflict, so two instances never both take the last place; a refusal writes
    nothing. If the table fails, chats go through: the providers' own quotas still hold.
    """

    def __init__(self, *, table_name: str, limit: int, client: Any = None, clock: Clock = time.time) -> None:
        self.limit = limit
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock

    async def acquire(self, key: str) -> Verdict:
        return await asyncio.to_thread(self._acquire, key)

    async def release(self, key: str, at: float) -> None:
        await asyncio.to_thread(self._release, key, at)

    def _acquire(self, key: str) -> Verdict:
        now = self._clock()
        for attempt in range(LIMIT_ATTEMPTS):
            now = self._clock()
            stored = self._read(key, now)
            if stored is None:
                break
            window = admit(stored[0], now=now, limit=self.limit)
            if window.retry_after_s is not None:
                return Verdict(at=now, retry_after_s=window.retry_after_s)
            written = self._write(key, window.hits, seen=stored[1], now=now)
            if written is not False:  # True, or None: the table failed us
                return Verdict(at=now, retry_after_s=None)
            _back_off(attempt)
        else:
            logger.warning("rate-limit table write kept conflicting")
        return Verdict(at=now, retry_after_s=None)  # fail open

    def _release(self, key: str, at: float) -> None:
        for attempt in range(LIMIT_ATTEMPTS):
            now = self._clock()
            stored = self._read(key, now)
            if stored is None or at not in stored[0]:
                return
            if self._write(key, without(stored[0], at), seen=stored[1], now=now) is not False:
                return
            _back_off(attempt)
        logger.warning("rate-limit table write kept conflicting")

    def _read(self, key: str, now: float) -> tuple[tuple[float, ...], int] | None:
        """The key's chat times and the item's version; None if the table failed us."""
        try:
            item = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": f"rate#{key}"}}, ConsistentRead=True
            ).get("Item")
        except (BotoCoreError, ClientError) as exc:
            logger.warning("rate-limit table read failed", extra={"error": type(exc).__name__})
            return None
        if item is None:
            return (), 0
        version = int(item["version"]["N"])
        if int(item["expires_at"]["N"]) < now:
            return (), version  # TTL deletes lazily: an expired item is no state
        return tuple(float(hit["N"]) for hit in item["hits"]["L"]), version

    def _write(self, key: str, hits: tuple[float, ...], *, seen: int, now: float) -> bool | None:
        """Store ``hits`` if the item is still at version ``seen``: True, False on a conflict, None on failure."""
        item = {
            "pk": {"S": f"rate#{key}"},
            "hits": {"L": [{"N": repr(hit)} for hit in hits]},
            "version": {"N": str(seen + 1)},
            "expires_at": {"N": str(math.ceil(max(hits, default=now) + WINDOW_S))},
        }
        return _put_if_version(self._client, self._table, item, seen=seen, what="rate-limit")


def _put_if_version(client: Any, table: str, item: dict[str, Any], *, seen: int, what: str) -> bool | None:
    """Put ``item`` only if the stored one is still at version ``seen`` (or absent): the one way every
    shared item here is written. True when written, False on a conflict, None when the table failed."""
    try:
        client.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR version = :seen",
            ExpressionAttributeValues={":seen": {"N": str(seen)}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        logger.warning("state table write failed", extra={"item": what, "error": type(exc).__name__})
        return None
    except BotoCoreError as exc:
        logger.warning("state table write failed", extra={"item": what, "error": type(exc).__name__})
        return None
    return True


def _back_off(attempt: int) -> None:
    """A short random pause after a conflict, so contenders do not collide again in step (a worker
    thread); at most 160 ms, however many conflicts came before."""
    time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 5)))


class DynamoTokenLimiter:
    """Tokens per person and UTC day, shared by every instance: item ``tokens#<user>#<day>`` is an
    atomic counter (ADD), so turns ending together lose nothing, and it expires a day after its
    day. If the table fails, chats go through."""

    def __init__(self, *, table_name: str, limit: int, client: Any = None, clock: Clock = time.time) -> None:
        self.limit = limit
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock

    async def wait(self, user_id: str) -> float | None:
        now = self._clock()
        used = await asyncio.to_thread(self._used, user_id, now)
        return seconds_to_midnight(now) if used is not None and used >= self.limit else None

    async def record(self, user_id: str, tokens: int) -> None:
        await asyncio.to_thread(self._add, user_id, tokens, self._clock())

    def _used(self, user_id: str, now: float) -> int | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=self._key(user_id, now)).get("Item")
        except (BotoCoreError, ClientError) as exc:
            logger.warning("token table read failed", extra={"error": type(exc).__name__})
            return None
        if item is None or int(item["expires_at"]["N"]) < now:
            return 0
        return int(item["tokens"]["N"])

    def _add(self, user_id: str, tokens: int, now: float) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(user_id, now),
                UpdateExpression="ADD tokens :n SET expires_at = if_not_exists(expires_at, :expires)",
                ExpressionAttributeValues={
                    ":n": {"N": str(tokens)},
                    ":expires": {"N": str(math.ceil(now + seconds_to_midnight(now) + DAY_S))},
                },
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("token table update failed", extra={"error": type(exc).__name__})

    @staticmethod
    def _key(user_id: str, now: float) -> dict[str, Any]:
        return {"pk": {"S": f"tokens#{user_id}#{utc_day(now)}"}}


class DynamoBudgetStore:
    """Free-tier budgets shared by every instance.

    Per model: ``budget#<model>#m#<epoch minute>`` and ``budget#<model>#d#<UTC day>`` are atomic
    counters (ADD: turns ending together on many instances lose nothing, no version to contend
    on), and ``budget#<model>#report`` holds the provider's latest quota facts (last writer wins,
    fact by fact: a report that lacks one keeps the one stored). Reads are one BatchGetItem for
    every model (paged by 100 keys; keys DynamoDB leaves unprocessed are asked again a few times),
    cached for about a second; a stale cache is answered at once and refreshed in the background,
    so the hot path waits on the table only for a process's very first read. Budgets are advice:
    if the table fails, the provider's own 429 still has the last word.
    """

    def __init__(
        self, *, table_name: str, client: Any = None, clock: Callable[[], float] = time.time, cache_s: float = CACHE_S
    ) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock
        self._cache_s = cache_s
        self._cache: dict[str, BudgetCounts] = {}
        self._read_at = -math.inf  # time.monotonic() of the last read
        self._refresh: asyncio.Task[None] | None = None

    async def read(self, keys: Sequence[str]) -> dict[str, BudgetCounts]:
        missing = any(key not in self._cache for key in keys)
        if missing:
            await self._load(keys)
        elif time.monotonic() - self._read_at >= self._cache_s and self._refresh is None:
            self._refresh = asyncio.create_task(self._load(keys), name="budget-refresh")
            self._refresh.add_done_callback(self._refreshed)
        return {key: self._cache.get(key) or BudgetCounts() for key in keys}

    def _refreshed(self, task: asyncio.Task[None]) -> None:
        self._refresh = None

    async def _load(self, keys: Sequence[str]) -> None:
        counts = await asyncio.to_thread(self._read, list(keys), self._clock())
        if counts is None:  # the table failed us: keep what we had, assume unspent otherwise
            counts = {key: self._cache.get(key) or BudgetCounts() for key in keys}
        self._cache.update(counts)
        self._read_at = time.monotonic()

    async def spend(self, key: str, *, requests: int, tokens: int, report: QuotaReport | None) -> None:
        now = self._clock()
        # What this instance spent counts here at once; the table catches up on the next read.
        self._cache[key] = (self._cache.get(key) or BudgetCounts()).plus(requests=requests, tokens=tokens, now=now)
        if report is not None:
            self._cache[key] = self._cache[key].reported(report, now)
        await asyncio.to_thread(self._spend, key, requests, tokens, report, now)

    def _spend(self, key: str, requests: int, tokens: int, report: QuotaReport | None, now: float) -> None:
        minute, day = minute_of(now), utc_day(now)
        windows = ((f"budget#{key}#m#{minute}", (minute + 2) * MINUTE_S), (f"budget#{key}#d#{day}", now + 2 * DAY_S))
        try:
            for pk, expires in windows:
                self._client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": pk}},
                    UpdateExpression="ADD requests :r, tokens :t SET expires_at = if_not_exists(expires_at, :e)",
                    ExpressionAttributeValues={
                        ":r": {"N": str(requests)},
                        ":t": {"N": str(tokens)},
                        ":e": {"N": str(math.ceil(expires))},
                    },
                )
            if report is not None:
                self._report(key, report, now)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("budget table update failed", extra={"error": type(exc).__name__})

    def _report(self, key: str, report: QuotaReport, now: float) -> None:
        """Set only the facts this report carries: a report of tokens alone (one header missing) must
        not erase the requests fact another turn stored, as it does not in ``BudgetCounts.reported``."""
        facts = BudgetCounts().reported(report, now)
        fields: dict[str, str] = {"expires_at": str(math.ceil(now + DAY_S))}
        if report.remaining_requests is not None:
            fields |= {
                "requests_left": str(facts.requests_left),
                "requests_left_until": repr(facts.requests_left_until),
            }
        if report.remaining_tokens is not None:
            fields |= {"tokens_left": str(facts.tokens_left), "tokens_left_until": repr(facts.tokens_left_until)}
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"budget#{key}#report"}},
            UpdateExpression="SET " + ", ".join(f"{name} = :{name}" for name in fields),
            ExpressionAttributeValues={f":{name}": {"N": value} for name, value in fields.items()},
        )

    def _read(self, keys: list[str], now: float) -> dict[str, BudgetCounts] | None:
        minute, day = minute_of(now), utc_day(now)
        names = {key: (f"budget#{key}#m#{minute}", f"budget#{key}#d#{day}", f"budget#{key}#report") for key in keys}
        items = self._items([pk for trio in names.values() for pk in trio], now)
        if items is None:
            return None

        def whole(item: dict[str, Any], name: str) -> int | None:
            return int(item[name]["N"]) if name in item else None

        def moment(item: dict[str, Any], name: str) -> float:
            return float(item[name]["N"]) if name in item else 0.0

        counts: dict[str, BudgetCounts] = {}
        for key, (minute_pk, day_pk, report_pk) in names.items():
            # A missing item counts nothing, and a report may carry one fact only.
            m, d, r = items.get(minute_pk, {}), items.get(day_pk, {}), items.get(report_pk, {})
            counts[key] = BudgetCounts(
                minute=minute,
                minute_requests=whole(m, "requests") or 0,
                minute_tokens=whole(m, "tokens") or 0,
                day=day,
                day_requests=whole(d, "requests") or 0,
                day_tokens=whole(d, "tokens") or 0,
                requests_left=whole(r, "requests_left"),
                requests_left_until=moment(r, "requests_left_until"),
                tokens_left=whole(r, "tokens_left"),
                tokens_left_until=moment(r, "tokens_left_until"),
            )
        return counts

    def _items(self, pks: list[str], now: float) -> dict[str, dict[str, Any]] | None:
        """The live items of ``pks`` by key, one BatchGetItem per 100 keys; None if the table failed us.

        DynamoDB may leave keys unprocessed (throttling, 16 MB answers): they are asked again after a
        short random pause, a bounded number of times, so a throttled table cannot hold a turn."""
        wanted = [{"pk": {"S": pk}} for pk in pks]
        items: dict[str, dict[str, Any]] = {}
        left_over = 0
        try:
            while wanted:
                answer = self._client.batch_get_item(RequestItems={self._table: {"Keys": wanted[:100]}})
                for item in answer.get("Responses", {}).get(self._table, []):
                    if int(item.get("expires_at", {}).get("N", "0")) >= now:  # TTL deletes lazily
                        items[item["pk"]["S"]] = item
                unprocessed = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
                wanted = wanted[100:] + unprocessed
                if unprocessed:
                    left_over += 1
                    if left_over == UPDATE_ATTEMPTS:
                        logger.warning("budget table read kept leaving keys unprocessed")
                        return None
                    _back_off(min(left_over, 5))
        except (BotoCoreError, ClientError) as exc:
            logger.warning("budget table read failed", extra={"error": type(exc).__name__})
            return None
        return items
