"""Latency of the history and usage routes for a person with 10,000 messages.

Seeds one person with 500 conversations of 20 messages and 5,000 usage rows (plus another person
with as much, so RLS and the indexes have something to skip), then times sequential requests to a
warm app process over real HTTP.

    uv run python -m tests.bench.history_load --requests 300
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import httpx
import psycopg

from tests.bench.harness import Stack, app_stack

PERSON = "00000000-0000-4000-8000-00000000be02"
SOMEONE_ELSE = "00000000-0000-4000-8000-00000000be03"
CONVERSATIONS, MESSAGES_EACH = 500, 20


def seed(database_url: str, user_id: str) -> str:
    """Bulk-load one person's history; return one conversation id to read back."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            """
            insert into conversations (id, user_id, title, created_at, updated_at)
            select %(u)s || '-c' || c, %(u)s, 'Conversation ' || c,
                   now() - make_interval(mins => c), now() - make_interval(mins => c)
            from generate_series(1, %(n)s) c;
            """,
            {"u": user_id, "n": CONVERSATIONS},
        )
        conn.execute(
            """
            insert into messages (id, conversation_id, role, content, metadata, created_at)
            select %(u)s || '-m' || c || '-' || m, %(u)s || '-c' || c,
                   case when m %% 2 = 1 then 'user' else 'assistant' end,
                   repeat('words and more words ', 20),
                   case when m %% 2 = 0 then '{"model":"groq-llama-8b","provider":"groq","tokens":120}'::jsonb end,
                   now() - make_interval(mins => c) + make_interval(secs => m)
            from generate_series(1, %(n)s) c, generate_series(1, %(k)s) m;
            """,
            {"u": user_id, "n": CONVERSATIONS, "k": MESSAGES_EACH},
        )
        conn.execute(
            """
            insert into ai_usage (id, user_id, conversation_id, provider, model, input_tokens, output_tokens,
                                  tokens_used, cost_cents, created_at)
            select %(u)s || '-u' || i, %(u)s, %(u)s || '-c' || (i %% %(n)s + 1),
                   case when i %% 3 = 0 then 'gemini' else 'groq' end,
                   case when i %% 3 = 0 then 'gemini-flash' else 'groq-llama-8b' end,
                   100, 50, 150, 0.0015, now() - make_interval(hours => i %% 700)
            from generate_series(1, %(rows)s) i;
            """,
            {"u": user_id, "n": CONVERSATIONS, "rows": CONVERSATIONS * MESSAGES_EACH // 2},
        )
        conn.execute("analyze")
    return f"{user_id}-c1"


def timed(call: Callable[[], httpx.Response], requests: int) -> dict[str, float]:
    for _ in range(20):  # warm the process, the pool and Postgres' caches
        call().raise_for_status()
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        call().raise_for_status()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
    }


def run(stack: Stack, requests: int) -> dict[str, dict[str, float]]:
    """Each route's latency, by route."""
    conversation = seed(stack.database_url, PERSON)
    seed(stack.database_url, SOMEONE_ELSE)
    with httpx.Client(base_url=stack.app_url, headers=stack.auth(PERSON), timeout=30) as client:
        first_page = client.get("/api/conversations").json()
        routes: dict[str, Callable[[], httpx.Response]] = {
            "GET /api/conversations": lambda: client.get("/api/conversations"),
            "GET /api/conversations?cursor (page 2)": lambda: client.get(
                "/api/conversations", params={"cursor": first_page["nextCursor"]}
            ),
            "GET /api/conversations/{id} (20 messages)": lambda: client.get(f"/api/conversations/{conversation}"),
            "GET /api/usage (30 days)": lambda: client.get("/api/usage"),
            "GET /api/health (no database query beyond select 1)": lambda: client.get("/api/health"),
        }
        return {name: timed(call, requests) for name, call in routes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with app_stack() as stack:
        for route, latency in run(stack, args.requests).items():
            print(json.dumps({"route": route} | latency))  # noqa: T201


if __name__ == "__main__":
    main()
