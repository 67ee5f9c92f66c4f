"""AWS on this machine for tests: moto's in-process DynamoDB with the runtime-state table as the
CDK makes it (key ``pk``, TTL attribute ``expires_at``), one shared clock, and a client that applies
requests whole as DynamoDB does."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest

TABLE = "chimera-runtime-state"


def use_fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and a region for moto, so no test can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)


def create_state_table() -> str:
    """The runtime-state table, inside a ``mock_aws()`` context; its name."""
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return TABLE


class OneRequestAtATime:
    """A DynamoDB client whose every request is applied whole before the next, as DynamoDB applies
    each one atomically. moto's in-process backend does not: two threads' ADDs or conditional
    puts can interleave inside moto and lose one, which would test moto rather than our code.
    Requests of different threads still interleave between each other, so reads go stale and
    conditional writes conflict as they do in AWS."""

    def __init__(self) -> None:
        self._client = boto3.client("dynamodb")
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        call = getattr(self._client, name)

        def one_at_a_time(**kwargs: Any) -> Any:
            with self._lock:
                return call(**kwargs)

        return one_at_a_time


class Clock:
    """One clock for every instance in a test: time moves when the test says so."""

    def __init__(self, now: float = 1_767_268_800.0) -> None:  # 2026-01-01T12:00:00Z
        self.now = now

    def __call__(self) -> float:
        return self.now
