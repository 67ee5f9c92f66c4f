"""Load benchmark for POST /api/chat: time to first token and throughput under concurrency.

Starts the provider simulator and the app as separate processes on loopback (the app on the
Postgres from DATABASE_URL, or an embedded one), then runs rounds of concurrent chats.
The simulator's own first-token delay (default 20 ms) is part of every measured TTFT.

    uv run python -m tests.bench.chat_load --concurrency 1 10 100 --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.servers import free_port, postgres_server, scratch_database


@contextmanager
def process(args: list[str], env: dict[str, str], ready_url: str) -> Iterator[None]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{args} did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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


async def round_of(base_url: str, concurrency: int, total: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
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

    with tempfile.TemporaryDirectory() as scratch:
        with postgres_server(os.environ.get("DATABASE_URL"), Path(scratch)) as admin_url:
            with scratch_database(admin_url) as database_url:
                sim_port, app_port = free_port(), free_port()
                env = dict(os.environ)
                env.update(
                    DATABASE_URL=database_url,
                    DATABASE_POOL_MAX_SIZE="20",
                    GROQ_API_KEY="bench",
                    GOOGLE_GENERATIVE_AI_API_KEY="bench",
                    GROQ_BASE_URL=f"http://127.0.0.1:{sim_port}",
                    GOOGLE_GEMINI_BASE_URL=f"http://127.0.0.1:{sim_port}",
                    CHIMERA_SIMULATED_PROVIDERS="true",
                    CHIMERA_SERVE_FRONTEND="false",
                )
                sim = [sys.executable, "-m", "chimera.dev.cli", "simulator", "--port", str(sim_port)]
                app = [
                    sys.executable, "-m", "uvicorn", "chimera.api.asgi:app",
                    "--port", str(app_port), "--log-level", "warning", "--no-access-log",
                ]  # fmt: skip
                with (
                    process(sim, env, f"http://127.0.0.1:{sim_port}/_simulator/requests"),
                    process(app, env, f"http://127.0.0.1:{app_port}/api/health"),
                ):
                    # The simulator would remember every request; keep it lean for long runs.
                    for concurrency in args.concurrency:
                        httpx.delete(f"http://127.0.0.1:{sim_port}/_simulator/scenarios")
                        result = asyncio.run(round_of(f"http://127.0.0.1:{app_port}", concurrency, args.requests))
                        print(json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
