"""The connection pool, and the one way any store talks to Postgres: as the person.

Every unit of work is one short transaction as role ``authenticated`` with the person's JWT
claims, so row-level security applies exactly as it does on Supabase. Connections go back to the
pool as soon as the transaction ends: none is held while a model is thinking.
"""

from __future__ import annotations

import logging
import math
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from chimera.errors import StoreUnavailable
from chimera.models import Principal

logger = logging.getLogger(__name__)

Conn = psycopg.AsyncConnection[Any]


# A connection used this recently is trusted without a check; one idle longer (a thawed Lambda's,
# which the pooler may have closed while it slept) is tested before use.
TRUST_RECENT_S = 5.0
_returned_at: weakref.WeakKeyDictionary[Conn, float] = weakref.WeakKeyDictionary()


async def _remember_return(conn: Conn) -> None:
    _returned_at[conn] = time.monotonic()


async def _check_if_idle(conn: Conn) -> None:
    """Test a connection before use only if it sat idle: checking on every checkout would double
    the statements a busy instance sends (each check is a round trip and a transaction)."""
    if time.monotonic() - _returned_at.get(conn, -math.inf) > TRUST_RECENT_S:
        await AsyncConnectionPool.check_connection(conn)


def create_pool(conninfo: str, *, max_size: int) -> AsyncConnectionPool:
    # prepare_threshold=None: Supabase's transaction pooler cannot keep prepared statements.
    return AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        kwargs={"autocommit": True, "prepare_threshold": None},
        check=_check_if_idle,
        reset=_remember_return,
        open=False,
        name="chimera",
    )


@asynccontextmanager
async def _pipelined(conn: Conn, on: bool) -> AsyncIterator[None]:
    if not on:
        yield
        return
    async with conn.pipeline():
        yield


@asynccontextmanager
async def as_service(pool: AsyncConnectionPool) -> AsyncIterator[Conn]:
    """A connection as the service itself, for the few statements that span people (progress
    flushes): row-level security does not apply, so they touch only rows the service created."""
    try:
        async with pool.connection() as conn:
            yield conn
    except (psycopg.OperationalError, PoolTimeout) as exc:
        logger.error("database unavailable", extra={"error": type(exc).__name__})
        raise StoreUnavailable("The database is not reachable right now.") from exc


@asynccontextmanager
async def as_person(pool: AsyncConnectionPool, principal: Principal, *, pipeline: bool = False) -> AsyncIterator[Conn]:
    """A transaction as the person.

    ``pipeline``: in psycopg's pipeline mode, BEGIN, the claims and the statements go out together
    and their results come back when one is read (or at COMMIT), so a unit of work that reads
    nothing until its end is one round trip instead of one per statement. Only for code that reads
    results by fetching them, sending every statement before it reads the first: a cursor's
    ``rowcount`` is not known before its results come back.
    """
    try:
        async with pool.connection() as conn, _pipelined(conn, pipeline), conn.transaction():
            await conn.execute(
                "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                (principal.claims_json(),),
            )
            yield conn
    except (psycopg.OperationalError, PoolTimeout) as exc:
        logger.error("database unavailable", extra={"error": type(exc).__name__})
        raise StoreUnavailable("The database is not reachable right now.") from exc
