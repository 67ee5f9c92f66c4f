"""Cold start of each function's code, in fresh processes (median of --runs).

- import: `import chat` / `import history` / `import usage` (the module builds its app);
- chat ready: run.sh from exec until the port accepts a connection (the Web Adapter's TCP check),
  which includes starting the runtime in the lifespan (pool, Groq client; Gemini stays unloaded);
- chat first token (``first_token_seconds``, with a stack from harness.py: its database and
  simulator): run.sh from exec until the first token of a first chat, as a cold Lambda's first
  person waits (the runtime, the pool's first connection, the provider's first request).

    uv run python -m tests.bench.cold_start --runs 7
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.harness import BENCH_SECRET, Stack
from tests.bench.wire import Connection
from tests.support.servers import free_port

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
COLD_PERSON = "00000000-0000-4000-8000-00000000c01d"
IMPORT_PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE.format(module=module)],
        cwd=FUNCTIONS, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(out.strip().splitlines()[-1])


def chat_ready_seconds(env: dict[str, str]) -> float:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(["sh", str(FUNCTIONS / "run.sh")], env=env | {"PORT": str(port)})
    try:
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return time.perf_counter() - start
            if proc.poll() is not None:
                raise RuntimeError("run.sh exited")
            time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait()


def first_token_seconds(stack: Stack) -> float:
    """From run.sh's exec to the first token of the first chat it serves."""
    port = free_port()
    token = stack.token(COLD_PERSON)
    start = time.perf_counter()
    proc = subprocess.Popen(["sh", str(FUNCTIONS / "run.sh")], env=dict(stack.env) | {"PORT": str(port)})
    try:
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                raise RuntimeError("run.sh exited")
            time.sleep(0.005)
        return asyncio.run(_first_token(port, token)) - start
    finally:
        proc.terminate()
        proc.wait()


async def _first_token(port: int, token: str) -> float:
    async with Connection("127.0.0.1", port) as conn:
        headers = {"authorization": f"Bearer {token}"}
        response = await conn.send("POST", "/api/chat", headers=headers, body={"message": "Hello, cold start"})
        first = None
        async for at, data in conn.events(response):
            if first is None and data.startswith('{"type":"text-delta"'):
                first = at
        if first is None:
            raise RuntimeError(f"no token (HTTP {response.status})")
        return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = lean_env()
    for module in ("chat", "history", "usage"):
        samples = [import_seconds(module, env) for _ in range(args.runs)]
        print(json.dumps({"import": module, "median_ms": round(statistics.median(samples) * 1000)}))  # noqa: T201
    ready = [chat_ready_seconds(env) for _ in range(args.runs)]
    print(json.dumps({"chat run.sh to listening": "", "median_ms": round(statistics.median(ready) * 1000)}))  # noqa: T201


def lean_env() -> dict[str, str]:
    """A function's environment with nothing to reach: the import and start alone are timed."""
    return dict(os.environ) | {
        "CHIMERA_STAGE": "test",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",  # never reached: the pool connects lazily
        "SUPABASE_JWT_SECRET": BENCH_SECRET,
        "GROQ_API_KEY": "bench",
        "GOOGLE_GENERATIVE_AI_API_KEY": "bench",
        "CHIMERA_SERVE_FRONTEND": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


if __name__ == "__main__":
    main()
