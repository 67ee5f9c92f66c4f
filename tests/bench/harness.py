"""The stack a benchmark runs against: the simulator and the app as their own processes.

The app runs under uvicorn exactly as the chat Lambda runs it behind the Web Adapter, on the
Postgres from DATABASE_URL (a scratch database on it) or on an embedded one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from chimera.dev.local_identity import issue_token

from tests.support.servers import free_port, postgres_server, scratch_database

BENCH_SECRET = "bench-secret-bench-secret-bench-secret-0123"


@dataclass(frozen=True)
class Stack:
    app_url: str
    simulator_url: str
    database_url: str

    def auth(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(BENCH_SECRET, user_id)}"}

    def forget_simulated_requests(self) -> None:
        httpx.delete(f"{self.simulator_url}/_simulator/scenarios")


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


@contextmanager
def app_stack() -> Iterator[Stack]:
    with tempfile.TemporaryDirectory() as scratch:
        with postgres_server(os.environ.get("DATABASE_URL"), Path(scratch)) as admin_url:
            with scratch_database(admin_url) as database_url:
                sim_port, app_port = free_port(), free_port()
                sim_url, app_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{app_port}"
                env = dict(os.environ)
                env.update(
                    DATABASE_URL=database_url,
                    DATABASE_POOL_MAX_SIZE="20",
                    GROQ_API_KEY="bench",
                    GOOGLE_GENERATIVE_AI_API_KEY="bench",
                    GROQ_BASE_URL=sim_url,
                    GOOGLE_GEMINI_BASE_URL=sim_url,
                    CHIMERA_SIMULATED_PROVIDERS="true",
                    SUPABASE_JWT_SECRET=BENCH_SECRET,
                    CHAT_RATE_LIMIT_PER_MINUTE="1000000",  # one benchmark person sends thousands
                )
                # No reasoning before answers: the benchmark measures what Chimera adds, not model time.
                sim = [
                    sys.executable, "-m", "chimera.dev.cli", "simulator", "--port", str(sim_port),
                    "--reasoning-tokens", "0",
                ]  # fmt: skip
                app = [
                    sys.executable, "-m", "uvicorn", "chimera.api.asgi:app",
                    "--port", str(app_port), "--log-level", "warning", "--no-access-log",
                ]  # fmt: skip
                with (
                    process(sim, env, f"{sim_url}/_simulator/requests"),
                    process(app, env, f"{app_url}/api/health"),
                ):
                    yield Stack(app_url=app_url, simulator_url=sim_url, database_url=database_url)
