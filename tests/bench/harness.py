"""The stack a benchmark runs against: the simulator and the app as their own processes.

The app runs under uvicorn exactly as the chat Lambda runs it behind the Web Adapter, on the
Postgres from DATABASE_URL (a scratch database on it) or on an embedded one. Several instances of
the app can share that database, as Lambda instances do.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from chimera.dev.local_identity import issue_token
from chimera.providers import catalogue

from tests.support.servers import free_port, postgres_server, scratch_database

BENCH_SECRET = "bench-secret-bench-secret-bench-secret-0123"


def machine_facts() -> dict[str, object]:
    """What a benchmark's numbers were measured on, and when."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class Pace:
    """How the simulator answers unless a request is scripted otherwise: the model's own time."""

    tokens: int = 20
    token_delay_s: float = 0.005
    first_token_delay_s: float = 0.02


@dataclass(frozen=True)
class Stack:
    app_urls: tuple[str, ...]  # one per app instance, all on the same database
    simulator_url: str
    database_url: str
    admin_url: str  # the server's own database: its statistics read from outside ours
    logs: tuple[Path, ...]  # each app instance's stdout and stderr, until the stack stops
    app_pids: tuple[int, ...]
    simulator_pid: int
    pace: Pace
    env: Mapping[str, str]  # the apps' environment

    @property
    def app_url(self) -> str:
        return self.app_urls[0]

    def token(self, user_id: str) -> str:
        return issue_token(BENCH_SECRET, user_id)

    def auth(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id)}"}

    @property
    def simulator_port(self) -> int:
        return int(self.simulator_url.rsplit(":", 1)[1])

    def app_rss_bytes(self, instance: int = 0) -> int:
        """The app process's resident memory now (Linux)."""
        return resident_bytes(self.app_pids[instance])

    def forget_simulated_requests(self) -> None:
        httpx.delete(f"{self.simulator_url}/_simulator/scenarios")


# A paid plan's limits, as far as the benchmark is concerned: no limit it could reach.
RAISED_TIER = "free_tier = { rpm = 100000000, rpd = 100000000, tpm = 1000000000, tpd = 1000000000 }"


def paid_catalogue() -> str:
    """The shipped model catalogue's text with its free-tier limits raised out of reach."""
    shipped = Path(catalogue.__file__).with_name("catalogue.toml").read_text()
    return "\n".join(RAISED_TIER if line.startswith("free_tier") else line for line in shipped.splitlines())


def cpu_seconds(pid: int) -> float:
    """A process's user and system CPU time so far (Linux; 0 elsewhere)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, all) time of every core since boot, in ticks (Linux; zeros elsewhere)."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return 0, 0
    ticks = [int(t) for t in stat.read_text().splitlines()[0].split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # idle and iowait are not busy


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> int | None:
    return round(100 * (after[0] - before[0]) / (after[1] - before[1])) if after[1] > before[1] else None


def resident_bytes(pid: int) -> int:
    """A process's resident set size (VmRSS), from /proc; 0 where there is none."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return 0
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def process(args: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    # Output to a file, not a pipe nobody reads while it runs: a full pipe would block the process.
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{args} did not start: {log.read_text(errors='replace')[-4000:]}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def app_stack(
    *,
    instances: int = 1,
    app: str = "chimera.api.asgi:app",
    env: Mapping[str, str] | None = None,
    pace: Pace = Pace(),
) -> Iterator[Stack]:
    """The simulator (answering at ``pace``) and ``instances`` app processes (``app``, an ASGI app
    for uvicorn) on one scratch database; ``env`` adds to or overrides the app's environment."""
    with tempfile.TemporaryDirectory() as scratch:
        with postgres_server(os.environ.get("DATABASE_URL"), Path(scratch)) as admin_url:
            with scratch_database(admin_url) as database_url:
                sim_port = free_port()
                sim_url = f"http://127.0.0.1:{sim_port}"
                app_env = dict(os.environ)
                app_env.update(
                    DATABASE_URL=database_url,
                    DATABASE_POOL_MAX_SIZE="20",
                    GROQ_API_KEY="bench",
                    GOOGLE_GENERATIVE_AI_API_KEY="bench",
                    GROQ_BASE_URL=sim_url,
                    GOOGLE_GEMINI_BASE_URL=sim_url,
                    CHIMERA_SIMULATED_PROVIDERS="true",
                    SUPABASE_JWT_SECRET=BENCH_SECRET,
                    # The load comes from one address, and one benchmark person may send thousands.
                    CHAT_RATE_LIMIT_PER_MINUTE="1000000",
                    CHAT_RATE_LIMIT_PER_IP_PER_MINUTE="1000000",
                    CHAT_TOKENS_PER_DAY="1000000000",
                )
                # A paid plan's catalogue, for the app and for the simulator's quota headers alike:
                # at hundreds of chats a second the free tier's 30 a minute and 8,000 tokens a
                # minute would send the load to the fallback provider, or refuse it, and the
                # benchmark would measure that instead.
                models = Path(scratch) / "models.toml"
                models.write_text(paid_catalogue())
                app_env["CHIMERA_MODELS_FILE"] = str(models)
                app_env.update(env or {})
                # A fixed, short model time (tests/bench/simulator.py): what Chimera adds is measured.
                sim = [
                    sys.executable, "-m", "tests.bench.simulator", "--port", str(sim_port),
                    "--tokens", str(pace.tokens), "--token-delay", str(pace.token_delay_s),
                    "--first-token-delay", str(pace.first_token_delay_s), "--models", str(models),
                ]  # fmt: skip
                with ExitStack() as running:
                    simulator = running.enter_context(
                        process(sim, app_env, f"{sim_url}/_simulator/requests", Path(scratch) / "simulator.log")
                    )
                    app_urls, logs, pids = [], [], []
                    for n in range(instances):
                        port, log = free_port(), Path(scratch) / f"app-{n}.log"
                        args = [
                            sys.executable, "-m", "uvicorn", app,
                            "--port", str(port), "--log-level", "warning", "--no-access-log",
                        ]  # fmt: skip
                        proc = running.enter_context(process(args, app_env, f"http://127.0.0.1:{port}/api/health", log))
                        app_urls.append(f"http://127.0.0.1:{port}")
                        logs.append(log)
                        pids.append(proc.pid)
                    yield Stack(
                        app_urls=tuple(app_urls),
                        simulator_url=sim_url,
                        database_url=database_url,
                        admin_url=admin_url,
                        logs=tuple(logs),
                        app_pids=tuple(pids),
                        simulator_pid=simulator.pid,
                        env=app_env,
                        pace=pace,
                    )
