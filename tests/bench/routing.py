"""What routing and budget reads add to a turn, before its first provider call and after its answer.

Times, per turn, `Router.plan` (weigh the request, read every model's health and free-tier budget
through the ModelBook, order the models) and the bookkeeping around one attempt (`may_ask`,
`begin`, `succeeded`), with the real router, catalogue and providers (never called here):

- in memory (MemoryHealthStore, MemoryBudgetStore) and on DynamoDB with warm caches (the steady
  state of a busy instance; moto's server in its own process on loopback) for four requests: a
  short question, a long one with code, a short one while auto's model rests and a long one while
  auto's model has spent its day (in both, the load spreads over the other models);
- a turn: plan and the bookkeeping in one sample (on DynamoDB up to `begin`: `succeeded` writes,
  after the answer). The turns' p50 is held to the target;
- on DynamoDB, two costs that are round trips by design, for scale: `succeeded`'s writes, and a
  turn after the caches expired (a quiet instance: its last turn more than a second ago).

"waited" counts the samples that gave the event loop control (they waited on I/O); the table
calls are those made during the measured samples. Between samples the loop runs once, as a real
turn's I/O lets it, so a background budget refresh goes on. Writes .benchmarks/routing.json and
exits 1 when a turn's p50 (in memory, or on DynamoDB with warm caches) is over the target.

    uv run python -m tests.bench.routing --iterations 20000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import httpx
from chimera.providers.base import FailureKind, PromptMessage, ProviderError, QuotaReport, Usage
from chimera.providers.budget import BudgetStore
from chimera.providers.catalogue import ModelSpec
from chimera.providers.choose import ModelView, Weight
from chimera.providers.health import HealthStore, after_failure
from chimera.providers.router import Router
from chimera.runtime import build_providers, load_models
from chimera.settings import ChatSettings
from chimera.store import dynamodb
from chimera.store.dynamodb import DynamoBudgetStore, DynamoHealthStore
from chimera.store.memory import MemoryBudgetStore, MemoryHealthStore
from pydantic import SecretStr

from tests.bench.harness import machine_facts
from tests.support.servers import free_port

TARGET_US = 200.0  # issue 8: routing and budget reads add < 0.2 ms to the hot path
OUT = Path(".benchmarks/routing.json")
SYSTEM = PromptMessage("system", "You are Chimera, a helpful assistant. Answer clearly and concisely.")
CODE = "```python\n" + "\n".join(f"def step_{i}(x: int) -> int:\n    return x * {i} + 1" for i in range(40)) + "\n```"
EARLIER = [
    PromptMessage(("user", "assistant")[i % 2], "An earlier message of this conversation. " * 8) for i in range(10)
]
USAGE = Usage(input_tokens=40, output_tokens=250)
QUOTA = QuotaReport(remaining_requests=990, remaining_tokens=7000, requests_reset_s=86.0, tokens_reset_s=7.5)

Step = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Scenario:
    name: str
    messages: list[PromptMessage]
    resting: str | None = None  # a model whose circuit is open (its provider said 429: an hour)
    spent: str | None = None  # a model whose free-tier requests for today are gone


SCENARIOS = [
    Scenario("short question", [SYSTEM, PromptMessage("user", "What is the capital of France?")]),
    Scenario("long question with code", [SYSTEM, *EARLIER, PromptMessage("user", f"Why does this fail?\n{CODE}")]),
    Scenario("short, auto's model resting", [SYSTEM, PromptMessage("user", "Hi there")], resting="groq-llama-8b"),
    Scenario("long, auto's model spent", [SYSTEM, PromptMessage("user", f"Explain:\n{CODE}")], spent="groq-llama-70b"),
]


class TableCalls:
    """Every DynamoDB call a client makes, by operation (a botocore event: counted at the edge)."""

    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:  # the stores call from worker threads
            self._counts[model.name] += 1

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)


@dataclass
class Instance:
    """One chat instance's router over its own stores, in the state of one scenario."""

    router: Router
    health: HealthStore
    budgets: BudgetStore
    scenario: Scenario
    _asked: list[tuple[ModelSpec, Weight]] = field(default_factory=list)  # begun, not ended: in flight
    _spent: bool = False

    async def seed(self) -> None:
        """Every model answered a few turns today; one rests, or has spent its day, if the scenario says so."""
        catalogue, now = self.router.catalogue, time.time()
        for spec in catalogue.models:
            await self.budgets.spend(spec.health_key, requests=5, tokens=3000, report=None)
        if self.scenario.resting:
            limited = ProviderError(provider="groq", kind=FailureKind.RATE_LIMITED, detail="429", retry_after_s=3600)
            key = catalogue.spec(self.scenario.resting).health_key
            await self.health.update(key, lambda health: after_failure(health, limited, now))
        if self.scenario.spent:
            spec = catalogue.spec(self.scenario.spent)
            await self.budgets.spend(spec.health_key, requests=spec.free_tier.rpd or 0, tokens=0, report=None)

    async def plan(self) -> None:
        await self.router.plan(choice="auto", messages=self.scenario.messages)

    async def turn(self, *, answered: bool) -> None:
        """Plan, may_ask and begin on the first model; and succeeded if ``answered``."""
        weight, views, chain = await self.router.plan(choice="auto", messages=self.scenario.messages)
        await self._attempt(chain[0], views[chain[0].key], weight, answered=answered)

    async def bookkeeping(self, *, planned: tuple[Weight, dict[str, ModelView], list[ModelSpec]]) -> None:
        """may_ask, begin and succeeded around one attempt of a turn planned beforehand."""
        weight, views, chain = planned
        await self._attempt(chain[0], views[chain[0].key], weight, answered=True)

    async def _attempt(self, spec: ModelSpec, view: ModelView, weight: Weight, *, answered: bool) -> None:
        book = self.router.book
        if await book.may_ask(view) is not None:
            raise RuntimeError(f"{spec.key} would not be asked: {self.scenario.name} is not what it says")
        book.begin(spec, weight)
        if answered:
            await book.succeeded(spec, weight, usage=USAGE, quota=QUOTA)
            self._spent = True
        else:
            self._asked.append((spec, weight))

    async def restore(self) -> None:
        """Between samples: the turn's in-flight count goes, and memory returns to the seeded state
        (the budget the turns spend would otherwise run out and change what is measured; on
        DynamoDB it piles up, which changes what a write costs not at all)."""
        while self._asked:
            self.router.book.abandon(*self._asked.pop())
        if self._spent and isinstance(self.health, MemoryHealthStore) and isinstance(self.budgets, MemoryBudgetStore):
            self._spent = False
            self.health.clear()
            self.budgets.clear()
            await self.seed()


@dataclass(frozen=True)
class Case:
    store: str
    name: str
    measured: str
    step: Step
    instance: Instance
    gated: bool = False
    round_trips: bool = False  # round trips in every sample, by design: fewer samples


@dataclass
class Result:
    store: str
    case: str
    measured: str
    iterations: int
    p50_us: float
    p99_us: float
    mean_us: float
    max_us: float
    waited: int  # samples in which the step gave the event loop control: it waited on I/O
    table_calls: dict[str, int]  # DynamoDB calls during the measured samples, by operation...
    seconds: float  # ...which took this long (the caches live about a second)
    gated: bool


async def measure(case: Case, *, iterations: int, warmup: int, calls: TableCalls) -> Result:
    loop = asyncio.get_running_loop()
    samples: list[int] = []
    waited = 0
    before: Counter[str] = Counter()
    began = 0.0
    gc.collect()
    for n in range(warmup + iterations):
        if n == warmup:
            before, began = calls.snapshot(), time.perf_counter()
        gave_control = [False]
        loop.call_soon(gave_control.__setitem__, 0, True)  # runs only if the step lets the loop run
        start = time.perf_counter_ns()
        await case.step()
        elapsed = time.perf_counter_ns() - start
        if n >= warmup:
            samples.append(elapsed)
            waited += gave_control[0]
        await case.instance.restore()
        await asyncio.sleep(0)  # what a real turn's I/O gives the loop: a background refresh goes on
    table_calls, seconds = dict(calls.snapshot() - before), time.perf_counter() - began
    samples.sort()
    return Result(
        store=case.store,
        case=case.name,
        measured=case.measured,
        iterations=iterations,
        p50_us=round(statistics.median(samples) / 1000, 1),
        p99_us=round(samples[int(len(samples) * 0.99) - 1] / 1000, 1),
        mean_us=round(statistics.fmean(samples) / 1000, 1),
        max_us=round(samples[-1] / 1000, 1),
        waited=waited,
        table_calls=table_calls,
        seconds=round(seconds, 2),
        gated=case.gated,
    )


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's DynamoDB in its own process on loopback, as DynamoDB is another machine (not our CPU's GIL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # it logs every request
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def health_cache_s(seconds: float) -> Iterator[None]:
    """The health store's cache lifetime for a while (the module's constant, as the integration tests set it)."""
    kept = dynamodb.CACHE_S
    dynamodb.CACHE_S = seconds
    try:
        yield
    finally:
        dynamodb.CACHE_S = kept


MEMORY, WARM, EXPIRED = "memory", "dynamodb, warm caches", "dynamodb, caches expired"
TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


class Instances:
    """Builds instances the way the chat function does: real settings, catalogue and providers
    (pointed at a closed loopback port: never called), and stores in memory or on the table."""

    def __init__(self, endpoint: str) -> None:
        self.settings = ChatSettings(
            _env_file=None,
            groq_api_key=SecretStr("bench"),
            google_generative_ai_api_key=SecretStr("bench"),
            groq_base_url="http://127.0.0.1:9",
            google_gemini_base_url="http://127.0.0.1:9",
        )
        self.catalogue, self.providers = load_models(self.settings), build_providers(self.settings)
        self.client = boto3.client(
            "dynamodb", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.calls = TableCalls(self.client)
        self._tables = 0

    async def new(self, scenario: Scenario, store: str) -> Instance:
        health: HealthStore
        budgets: BudgetStore
        if store == MEMORY:
            health, budgets = MemoryHealthStore(), MemoryBudgetStore()
        else:  # a table of its own, so no scenario's state leaks into another's
            self._tables += 1
            table = f"chimera-bench-{self._tables}"
            self.client.create_table(TableName=table, **TABLE_SCHEMA)
            health = DynamoHealthStore(table_name=table, client=self.client)
            budgets = DynamoBudgetStore(
                table_name=table, client=self.client, cache_s=0.0 if store == EXPIRED else dynamodb.CACHE_S
            )
        router = Router(
            providers=self.providers, health=health, budgets=budgets, settings=self.settings, catalogue=self.catalogue
        )
        made = Instance(router, health, budgets, scenario)
        await made.seed()
        return made

    async def close(self) -> None:
        for provider in self.providers.values():
            await provider.aclose()


async def cases(instances: Instances) -> list[Case]:
    found: list[Case] = []
    for store in (MEMORY, WARM):
        answered = store == MEMORY  # on DynamoDB, succeeded writes (after the answer): measured on its own
        turn = "plan + may_ask + begin" + (" + succeeded" if answered else "")
        for scenario in SCENARIOS:
            each = await instances.new(scenario, store)
            found.append(Case(store, scenario.name, "plan", each.plan, each))
            found.append(Case(store, scenario.name, turn, partial(each.turn, answered=answered), each, gated=True))
    for store in (MEMORY, WARM):
        each = await instances.new(SCENARIOS[0], store)
        planned = await each.router.plan(choice="auto", messages=each.scenario.messages)
        step = partial(each.bookkeeping, planned=planned)
        found.append(
            Case(store, SCENARIOS[0].name, "may_ask + begin + succeeded", step, each, round_trips=store != MEMORY)
        )
    expired = await instances.new(SCENARIOS[0], EXPIRED)
    found.append(Case(EXPIRED, SCENARIOS[0].name, "plan", expired.plan, expired, round_trips=True))
    return found


async def run(args: argparse.Namespace, endpoint: str) -> list[Result]:
    instances = Instances(endpoint)
    results = []
    for case in await cases(instances):
        iterations = args.round_trip_iterations if case.round_trips else args.iterations
        warmup = min(args.warmup, iterations // 10)
        with health_cache_s(0.0 if case.store == EXPIRED else dynamodb.CACHE_S):
            result = await measure(case, iterations=iterations, warmup=warmup, calls=instances.calls)
        results.append(result)
        print(ROW.format(**asdict(result) | {"table_calls": _calls(result)}), flush=True)  # noqa: T201
    await instances.close()
    return results


ROW = (
    "{store:<24} {case:<28} {measured:<35} {p50_us:>8} {p99_us:>8} {mean_us:>8} {max_us:>9} {waited:>6}  {table_calls}"
)
HEADER = ROW.format(
    store="store", case="request", measured="measured", p50_us="p50 µs", p99_us="p99 µs", mean_us="mean µs",
    max_us="max µs", waited="waited", table_calls="table calls",
)  # fmt: skip


def _calls(result: Result) -> str:
    counts = ", ".join(f"{operation} {n}" for operation, n in sorted(result.table_calls.items()))
    return f"{counts or 'none'} in {result.seconds:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=20_000, help="samples per case, after the warm-up")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--round-trip-iterations", type=int, default=300, help="for the cases that wait on the table")
    parser.add_argument("--target-us", type=float, default=TARGET_US)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    machine = machine_facts()
    print(json.dumps(machine), HEADER, sep="\n")  # noqa: T201
    with moto_server() as endpoint:
        results = asyncio.run(run(args, endpoint))

    turns = [r for r in results if r.gated]
    over = [f"{r.store}: {r.case}" for r in turns if r.p50_us > args.target_us]
    verdict = {
        "target_us": args.target_us,
        "worst_turn_p50_us": max(r.p50_us for r in turns),
        "within_target": not over,
        "over_target": over,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine, "results": [asdict(r) for r in results], "verdict": verdict}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(verdict))  # noqa: T201
    if over:
        sys.exit(1)


if __name__ == "__main__":
    main()
