"""Runtime state shared by every Lambda instance through one DynamoDB table.

Items: `model#<provider>/<model id>` for model health (versioned: conditional writes),
`rate#<user>#<minute>` for rate-limit windows.

Reads are cached in-process for about a second, so the hot path almost never touches the table;
boto3 is synchronous, so every call runs in a worker thread, never on the event loop. Health is
advice: if DynamoDB fails, we log it and carry on with what we know.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chimera.providers.health import ModelHealth
from chimera.providers.rate_limit import WINDOW_S, window_of

logger = logging.getLogger(__name__)

CACHE_S = 1.0
KEEP_S = 86_400  # rows expire (DynamoDB TTL) a day after their cooldown
UPDATE_ATTEMPTS = 5  # conditional writes before giving up on a contended item (health is advice)


class DynamoHealthStore:
    """Model health shared by every instance. Reads are cached for about a second; a change is a
    conditional write on the version it was computed from, re-read and re-applied on a conflict, so
    two instances that record failures at once lose neither."""

    def __init__(self, *, table_name: str, client: Any = None, clock: Callable[[], float] = time.time) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._clock = clock
        self._cache: dict[str, tuple[float, ModelHealth]] = {}

    async def get(self, key: str) -> ModelHealth:
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_S:
            return cached[1]
        health = await asyncio.to_thread(self._read, key)
        if health is None:  # the table failed us: keep what we had, or assume healthy
            health = cached[1] if cached else ModelHealth(key=key)
        self._remember(health)
        return health

    async def update(self, key: str, change: Callable[[ModelHealth], ModelHealth]) -> ModelHealth:
        cached = await self.get(key)
        if change(cached) == cached:
            return cached  # the common case (a success on a healthy model): no write, no round trip
        stored = await asyncio.to_thread(self._update, key, change)
        if stored is None:  # the table failed us: health is advice, carry on with the change locally
            stored = change(cached)
        self._remember(stored)
        return stored

    def _remember(self, health: ModelHealth) -> None:
        self._cache[health.key] = (time.monotonic(), health)

    def _update(self, key: str, change: Callable[[ModelHealth], ModelHealth]) -> ModelHealth | None:
        for _ in range(UPDATE_ATTEMPTS):
            current = self._read(key, consistent=True)
            if current is None:
                return None
            changed = change(current)
            if changed == current:
                return current
            stored = replace(changed, version=current.version + 1)
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=self._item(stored),
                    ConditionExpression="attribute_not_exists(pk) OR version = :seen",
                    ExpressionAttributeValues={":seen": {"N": str(current.version)}},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    continue  # another instance wrote first: read its version and apply ours to it
                logger.warning("health table write failed", extra={"error": type(exc).__name__})
                return None
            except BotoCoreError as exc:
                logger.warning("health table write failed", extra={"error": type(exc).__name__})
                return None
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
    """Per-person chat windows shared by every instance: one atomic counter per person and minute."""

    def __init__(self, *, table_name: str, per_minute: int, client: Any = None) -> None:
        self.per_minute = per_minute
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    async def acquire(self, user_id: str) -> float | None:
        window, left = window_of(time.time())
        hits = await asyncio.to_thread(self._count, f"rate#{user_id}#{window}", (window + 2) * WINDOW_S)
        return None if hits is None or hits <= self.per_minute else left

    def _count(self, key: str, expires_at: int) -> int | None:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression="ADD hits :one SET expires_at = if_not_exists(expires_at, :expires)",
                ExpressionAttributeValues={":one": {"N": "1"}, ":expires": {"N": str(expires_at)}},
                ReturnValues="UPDATED_NEW",
            )
        except (BotoCoreError, ClientError) as exc:  # fail open: a limiter outage must not stop chats
            logger.warning("rate-limit table update failed", extra={"error": type(exc).__name__})
            return None
        return int(answer["Attributes"]["hits"]["N"])
