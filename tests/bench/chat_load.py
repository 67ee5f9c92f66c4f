"""Load benchmark for POST /api/chat: time to first token and throughput under concurrency.

Starts the provider simulator and the app as separate processes on loopback (see harness.py),
then runs rounds of concurrent chats.
The simulator's own first-token delay (default 20 ms) is part of every measured TTFT.

    uv run python -m tests.bench.chat_load --concurrency 1 10 100 --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx

from tests.bench.harness import Stack, app_stack

BENCH_USER = "00000000-0000-4000-8000-00000000be01"


async def one_chat(client: httpx.AsyncClient, n: int) -> tuple[float, float]:
    """(time to first token, total time) in seconds for one chat."""
    start = time.perf_counter()
    first = None
    async with client.stream("POST", "/api/chat", json={"message": f"benchmark question {n}"}) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if first is None and '"text-delta"' in line:
                first = time.perf_counter() - start
            if line == "data: [DONE]":
                break
    if first is None:
        raise RuntimeError("no token arrived")
    return first, time.perf_counter() - start


async def round_of(stack: Stack, concurrency: int, total: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = stack.auth(BENCH_USER)
    async with httpx.AsyncClient(base_url=stack.app_url, headers=headers, limits=limits, timeout=60) as client:
        await one_chat(client, -1)  # warm up
        queue = iter(range(total))
        results: list[tuple[float, float]] = []

        async def worker() -> None:
            for n in queue:
                results.append(await one_chat(client, n))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ttft = sorted(r[0] for r in results)
    return {
        "concurrency": concurrency,
        "chats": len(results),
        "chats_per_s": round(len(results) / elapsed, 1),
        "ttft_p50_ms": round(statistics.median(ttft) * 1000, 1),
        "ttft_p95_ms": round(ttft[int(len(ttft) * 0.95) - 1] * 1000, 1),
        "ttft_p99_ms": round(ttft[int(len(ttft) * 0.99) - 1] * 1000, 1),
        "total_p50_ms": round(statistics.median(r[1] for r in results) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--requests", type=int, default=200, help="chats per round")
    args = parser.parse_args()

    with app_stack() as stack:
        for concurrency in args.concurrency:
            stack.forget_simulated_requests()
            result = asyncio.run(round_of(stack, concurrency, args.requests))
            print(json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
