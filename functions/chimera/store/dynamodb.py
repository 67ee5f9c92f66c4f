"""Runtime state shared by every Lambda instance through one DynamoDB table.

Items: `model#<provider>/<model id>` for model health, `rate#<user>#<minute>` for rate-limit windows.

Reads are cached in-process for about a second, so the hot path almost never touches the table;
boto3 is synchronous, so every call runs in a worker thread, never on the event loop. Health is
advice: if DynamoDB fails, we log it and carry on with what we know.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chimera.providers.health import ModelHealth
from chimera.providers.rate_limit import WINDOW_S, window_of

logger = logging.getLogger(__name__)

CACHE_S = 1.0
KEEP_S = 86_400  # rows expire (DynamoDB TTL) a day after their cooldown


class DynamoHealthStore:
    def __init__(self, *, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")
        self._cache: dict[str, tuple[float, ModelHealth]] = {}

    async def get(self, key: str) -> ModelHealth:
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_S:
            return cached[1]
        health = await asyncio.to_thread(self._read, key)
        if health is None:  # the table failed us: keep what we had, or assume healthy
            health = cached[1] if cached else ModelHealth(key=key)
        self._cache[key] = (time.monotonic(), health)
        return health

    async def put(self, health: ModelHealth) -> None:
        self._cache[health.key] = (time.monotonic(), health)
        await asyncio.to_thread(self._write, health)

    def _read(self, key: str) -> ModelHealth | None:
        try:
            item = self._client.get_item(TableName=self._table, Key={"pk": {"S": f"model#{key}"}}).get("Item")
        except (BotoCoreError, ClientError) as exc:
            logger.warning("health table read failed", extra={"error": type(exc).__name__})
            return None
        if item is None:
            return ModelHealth(key=key)
        return ModelHealth(
            key=key,
            cooldown_until=float(item["cooldown_until"]["N"]),
            consecutive_failures=int(item["consecutive_failures"]["N"]),
            last_failure=item.get("last_failure", {}).get("S"),
        )

    def _write(self, health: ModelHealth) -> None:
        item = {
            "pk": {"S": f"model#{health.key}"},
            "cooldown_until": {"N": repr(health.cooldown_until)},
            "consecutive_failures": {"N": str(health.consecutive_failures)},
            "expires_at": {"N": str(int(max(health.cooldown_until, time.time()) + KEEP_S))},
        }
        if health.last_failure:
            item["last_failure"] = {"S": health.last_failure}
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("health table write failed", extra={"error": type(exc).__name__})


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
