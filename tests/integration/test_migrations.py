"""The migration runner: each file once, safe twice and concurrently, and RLS really applies."""

from __future__ import annotations

import asyncio

import psycopg
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
            versions = [r[0] for r in conn.execute("select version from schema_migrations order by version")]
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
