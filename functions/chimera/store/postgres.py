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
from collections.abc import AsyncIterator, Mapping, Sequence
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
async def as_person(pool: AsyncConnectionPool, principal: Principal) -> AsyncIterator[Conn]:
    try:
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(_AS_PERSON, {"claims": principal.claims_json()})
            yield conn
    except (psycopg.OperationalError, PoolTimeout) as exc:
        logger.error("database unavailable", extra={"error": type(exc).__name__})
        raise StoreUnavailable("The database is not reachable right now.") from exc


_AS_PERSON = "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %(claims)s, true)"
Rows = list[tuple[Any, ...]]


async def at_once_as_person(
    pool: AsyncConnectionPool, principal: Principal, statements: Sequence[str], params: Mapping[str, Any]
) -> list[Rows]:
    """``statements`` as the person, sent as one query: one round trip, one transaction.

    A turn's hot path (claim, begin, finish) is a few statements whose parameters are known
    before the first is sent. As separate statements in a transaction they cost BEGIN, the claims,
    each statement and COMMIT, a round trip each; as one simple query they are one message, which
    Postgres runs as one implicit transaction (so the claims, set locally, hold for the statements
    after them and end with it). Parameters are bound by psycopg on this side (a ClientCursor:
    the simple query protocol takes none of its own), under names shared by all ``statements``
    (``claims`` is taken). Returns each statement's rows.
    """
    query = ";\n".join([_AS_PERSON, *statements])
    try:
        async with pool.connection() as conn:
            cursor = psycopg.AsyncClientCursor(conn)
            await cursor.execute(query, {"claims": principal.claims_json(), **params})
            results: list[Rows] = []
            while cursor.nextset():  # the claims' own row first: skipped
                results.append(await cursor.fetchall() if cursor.description else [])
            return results
    except (psycopg.OperationalError, PoolTimeout) as exc:
        logger.error("database unavailable", extra={"error": type(exc).__name__})
        raise StoreUnavailable("The database is not reachable right now.") from exc
