"""The app as the database benchmark runs it: Chimera's ASGI app, with every statement it sends to
Postgres counted, and its pool watched. ``uvicorn tests.bench.db_counting:app``.

For benchmarks only. It wraps, in this process, the psycopg and psycopg_pool methods every store
goes through (a cursor's execute and executemany, a transaction's BEGIN and its end, the pool's
getconn and putconn), so the app's own code runs unchanged. Each statement is counted under the
Chimera function that sent it (``begin_turn``, ``flush_progress``, ``answer``, ...: the nearest
``chimera`` frame on the stack that is not plumbing) and its kind:

- ``statement``: the store's own SQL inside a transaction (an executemany counts each of its rows);
- ``single``: a statement that is its own transaction (autocommit: the progress flush);
- ``auth``: the ``set_config`` that opens every transaction as a person (row-level security);
- ``begin``, ``commit``, ``rollback``: the transaction's own statements;
- ``check``: the pool's empty query that tests a connection before lending it (a round trip,
  no statement to Postgres' statistics);
- ``implicit``: a query of several statements, which Postgres runs as one transaction without
  BEGIN or COMMIT (each of its statements is counted too, the claims as ``auth``).

``GET /_bench/db`` answers the counts so far, the pool (connections lent now, the most lent at
once and the longest wait for one since the last ``?reset``, timeouts) and the process's CPU time.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from types import FrameType, TracebackType
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.types import Receive, Scope, Send

# Frames between a store's method and psycopg: the method's name is what a statement is counted under.
PLUMBING = frozenset({"as_person", "as_service", "at_once_as_person", "_must_exist", "__aenter__", "__aexit__"})


class Counts:
    def __init__(self) -> None:
        self.statements: Counter[tuple[str, str]] = Counter()  # (function, kind)
        self.lent = 0  # connections out of the pool now
        self.most_lent = 0  # since the last reset
        self.longest_wait_s = 0.0  # for a connection, since the last reset
        self.checkouts = 0
        self.timeouts = 0
        self.pool: AsyncConnectionPool | None = None

    def count(self, kind: str, n: int = 1) -> None:
        self.statements[(sender(sys._getframe(2)), kind)] += n

    def snapshot(self, *, reset: bool) -> dict[str, Any]:
        pool_stats = self.pool.get_stats() if self.pool is not None else {}
        shot = {
            "statements": [
                {"function": function, "kind": kind, "count": n} for (function, kind), n in self.statements.items()
            ],
            "pool": {
                "lent": self.lent,
                "most_lent": self.most_lent,
                "longest_wait_ms": round(self.longest_wait_s * 1000, 1),
                "checkouts": self.checkouts,
                "timeouts": self.timeouts,
                "size": pool_stats.get("pool_size"),
                "max_size": self.pool.max_size if self.pool is not None else None,
            },
            "cpu_s": time.process_time(),
            "clock_s": time.monotonic(),
        }
        if reset:
            self.most_lent, self.longest_wait_s = self.lent, 0.0
        return shot


COUNTS = Counts()


def sender(frame: FrameType | None) -> str:
    while frame is not None:
        name = frame.f_code.co_name
        if frame.f_globals.get("__name__", "").startswith("chimera.") and name not in PLUMBING:
            return name
        frame = frame.f_back
    return "other"


def kind_of(cursor: psycopg.AsyncCursor[Any], query: object) -> str:
    text = query if isinstance(query, str) else ""
    if isinstance(query, str) and not text.strip():
        return "check"
    if text.lstrip().startswith("select set_config"):
        return "auth"
    alone = cursor.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    return "single" if alone else "statement"


_execute = psycopg.AsyncCursor.execute
_executemany = psycopg.AsyncCursor.executemany
_begin = psycopg.AsyncTransaction.__aenter__
_end = psycopg.AsyncTransaction.__aexit__
_getconn = AsyncConnectionPool.getconn
_putconn = AsyncConnectionPool.putconn


async def execute(self: psycopg.AsyncCursor[Any], query: Any, params: Any = None, **kwargs: Any) -> Any:
    statements = query.count(";") + 1 if isinstance(query, str) else 1
    if statements > 1:  # several statements in one query (postgres.at_once_as_person): one transaction
        COUNTS.count("implicit")
        COUNTS.count("auth" if query.lstrip().startswith("select set_config") else "statement")
        COUNTS.count("statement", statements - 1)
    else:
        COUNTS.count(kind_of(self, query))
    return await _execute(self, query, params, **kwargs)


async def executemany(self: psycopg.AsyncCursor[Any], query: Any, params_seq: Iterable[Any], **kwargs: Any) -> None:
    rows = list(params_seq)
    COUNTS.count(kind_of(self, query), len(rows))
    await _executemany(self, query, rows, **kwargs)


async def begin(self: psycopg.AsyncTransaction) -> psycopg.AsyncTransaction:
    COUNTS.count("begin")
    return await _begin(self)


async def end(
    self: psycopg.AsyncTransaction,
    exc_type: type[BaseException] | None,
    exc_val: BaseException | None,
    exc_tb: TracebackType | None,
) -> bool:
    COUNTS.count("commit" if exc_type is None else "rollback")
    return await _end(self, exc_type, exc_val, exc_tb)


async def getconn(self: AsyncConnectionPool, timeout: float | None = None) -> Any:
    COUNTS.pool = self
    started = time.monotonic()
    try:
        conn = await _getconn(self, timeout)
    except PoolTimeout:
        COUNTS.timeouts += 1
        raise
    COUNTS.longest_wait_s = max(COUNTS.longest_wait_s, time.monotonic() - started)
    COUNTS.checkouts += 1
    COUNTS.lent += 1
    COUNTS.most_lent = max(COUNTS.most_lent, COUNTS.lent)
    return conn


async def putconn(self: AsyncConnectionPool, conn: Any) -> None:
    COUNTS.lent -= 1
    await _putconn(self, conn)


for owner, name, wrapper in (
    (psycopg.AsyncCursor, "execute", execute),
    (psycopg.AsyncCursor, "executemany", executemany),
    (psycopg.AsyncTransaction, "__aenter__", begin),
    (psycopg.AsyncTransaction, "__aexit__", end),
    (AsyncConnectionPool, "getconn", getconn),
    (AsyncConnectionPool, "putconn", putconn),
):
    setattr(owner, name, wrapper)

from chimera.api.asgi import app as chimera_app  # noqa: E402  (built after the wrapping, on purpose)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Chimera's app, plus ``GET /_bench/db``."""
    if scope["type"] == "http" and scope["path"] == "/_bench/db":
        shot = COUNTS.snapshot(reset=b"reset" in scope.get("query_string", b""))
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": json.dumps(shot).encode()})
        return
    await chimera_app(scope, receive, send)
