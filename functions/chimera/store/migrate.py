"""Applies the SQL files in ``migrations/`` once each, in name order.

Everything runs in one transaction behind a transaction-scoped advisory lock, so two processes
starting together apply each file exactly once, and it works through Supabase's transaction
pooler (where session-level locks do not).

The bookkeeping table lives in a schema of its own, ``chimera``, that no API role may use:
Supabase's Data API (PostgREST) serves the ``public`` schema to ``anon`` and ``authenticated``, and
which migrations ran is nobody's business there. Row-level security without a policy backs that up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x43_48_49_4D  # "CHIM"
_BOOKKEEPING = """
    create schema if not exists chimera;
    revoke all on schema chimera from public;
    do $$ begin
        -- Before 2026-11 the table was public.schema_migrations: move it, history and all.
        if to_regclass('chimera.schema_migrations') is null and to_regclass('public.schema_migrations') is not null then
            alter table public.schema_migrations set schema chimera;
        end if;
    end $$;
    create table if not exists chimera.schema_migrations (
        version text primary key, applied_at timestamptz not null default now()
    );
    alter table chimera.schema_migrations enable row level security;
    revoke all on chimera.schema_migrations from public;
    do $$ declare api_role text; begin
        -- Supabase grants its API roles everything in `public` by default; a table moved from
        -- there keeps those grants, so take them back wherever the roles exist.
        foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
            if exists (select 1 from pg_roles where rolname = api_role) then
                execute format('revoke all on chimera.schema_migrations from %I', api_role);
            end if;
        end loop;
    end $$;
"""


async def apply_migrations(conninfo: str) -> list[str]:
    """Apply what has not run yet; return the names applied now."""
    applied_now: list[str] = []
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True, prepare_threshold=None) as conn:
        async with conn.transaction():
            await conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            await conn.execute(_BOOKKEEPING)
            cursor = await conn.execute("select version from chimera.schema_migrations")
            done = {row[0] for row in await cursor.fetchall()}
            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                if path.stem in done:
                    continue
                await conn.execute(path.read_text())  # a trusted file of ours
                await conn.execute("insert into chimera.schema_migrations (version) values (%s)", (path.stem,))
                applied_now.append(path.stem)
    if applied_now:
        logger.info("migrations applied", extra={"versions": applied_now})
    return applied_now
