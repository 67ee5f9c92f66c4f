"""The migration runner: each file once, safe twice and concurrently, and RLS really applies."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from chimera.store.migrate import MIGRATIONS_DIR, apply_migrations

from tests.support.servers import scratch_database


def test_migrations_apply_once_even_when_run_concurrently(postgres_admin_url: str) -> None:
    expected = sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))
    with scratch_database(postgres_admin_url, migrate=False) as url:

        async def twice_at_once() -> list[list[str]]:
            return list(await asyncio.gather(apply_migrations(url), apply_migrations(url)))

        first, second = asyncio.run(twice_at_once())
        assert sorted(first + second) == expected  # one runner applied everything, the other nothing
        assert asyncio.run(apply_migrations(url)) == []
        with psycopg.connect(url) as conn:
            versions = [r[0] for r in conn.execute("select version from chimera.schema_migrations order by version")]
        assert versions == expected


def test_row_level_security_hides_other_peoples_rows(database_url: str) -> None:
    a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("truncate messages, conversations, ai_usage")
        conn.execute("insert into conversations (id, user_id, title) values ('ca', %s, 'A''s')", (a,))
        conn.execute("insert into messages (id, conversation_id, role, content) values ('ma', 'ca', 'user', 'x')")
        with conn.transaction():
            conn.execute(
                "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                (f'{{"sub": "{b}"}}',),
            )
            assert conn.execute("select count(*) from conversations").fetchone() == (0,)
            assert conn.execute("select count(*) from messages").fetchone() == (0,)
            try:
                with conn.transaction():
                    conn.execute(
                        "insert into messages (id, conversation_id, role, content) values ('mb', 'ca', 'user', 'y')"
                    )
                raise AssertionError("B wrote into A's conversation")
            except psycopg.errors.InsufficientPrivilege:
                pass


def test_the_migration_bookkeeping_is_out_of_reach_of_the_api_roles(database_url: str) -> None:
    """Supabase's Data API serves `public` to anon and authenticated; the bookkeeping is elsewhere."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("select to_regclass('public.schema_migrations')").fetchone() == (None,)
        for role in ("authenticated", "public"):
            can_use = conn.execute("select has_schema_privilege(%s, 'chimera', 'usage')", (role,)).fetchone()
            assert can_use == (False,), role
        conn.execute("set role authenticated")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select version from chimera.schema_migrations")


def test_a_database_migrated_before_the_move_keeps_its_history(postgres_admin_url: str) -> None:
    with scratch_database(postgres_admin_url, migrate=False) as url:
        with psycopg.connect(url, autocommit=True) as conn:  # what an older Chimera left behind
            conn.execute("create table schema_migrations (version text primary key, applied_at timestamptz)")
            conn.execute("insert into schema_migrations values ('0000_from_before', now())")

        asyncio.run(apply_migrations(url))

        with psycopg.connect(url) as conn:
            versions = [r[0] for r in conn.execute("select version from chimera.schema_migrations order by 1")]
            assert conn.execute("select to_regclass('public.schema_migrations')").fetchone() == (None,)
        assert versions[0] == "0000_from_before" and len(versions) == 1 + len(list(MIGRATIONS_DIR.glob("*.sql")))
