"""The database budget (issue 9): statements and transactions a second with N answers streaming at once.

The specification keeps Postgres under 1,000 queries a second (Supabase's free tier) with 1,000
concurrent streams, their progress flushes, stop checks and resume readers together. This drives
that load and counts it on both sides of the wire:

- the stack (harness.py): the provider simulator and two app instances on one scratch database,
  each app counting every statement it sends, by the function that sent it (db_counting.py).
  Instance A generates every answer. A share of the people (``--resume-share``) also follow each
  of their answers from instance B, which reads it through its row once a flush interval, as a
  reader reconnected to another Lambda instance does;
- N people (distinct accounts), each in a conversation of their own, one turn after another: a
  new question as soon as the answer ends (turns start and end all the time, as they would). Every
  answer is ``--tokens`` tokens ``--token-delay`` s apart (the simulator is scripted per request),
  long enough that N streams stay open. People start evenly over one answer's length (at most
  ``--ramp-per-s`` a second), so that turns then start and end at an even rate;
- once all N streams are open (and ``--settle`` s more), the counts are read over ``--window`` s:
  the apps' statements a second by what sent them (turn start: ``claim_turn``, ``begin_turn``;
  turn end: ``finish_answer``; ``flush_progress``, whose one statement a tick also reads the stops
  back; resume reads), with the BEGIN, COMMIT and ``set_config`` of each transaction; Postgres' own
  transactions for the scratch database (``pg_stat_database``: ``xact_commit + xact_rollback``,
  which also counts each pool check, an empty query); ``pg_stat_statements``' calls when the
  server has it in ``shared_preload_libraries``; the most pool connections lent at once;
- then the people stop asking, every answer ends, and each one a person saw is checked against
  its row (complete, exactly the text streamed) and its usage row; a resume reader's text against
  the answer's.

One process generates every answer here, so one flush statement a tick serves all N. A Lambda
instance serves one stream at a time: there, each instance flushes its own, N statements a tick.

Prints a table and writes .benchmarks/db_load.json (machine, date, every count). About two
minutes for 100 and 1,000 streams (`make bench` runs it):

    uv run python -m tests.bench.db_load --streams 100 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict

from tests.bench.chat_load import ms, percentile, saved_as_streamed
from tests.bench.harness import Stack, app_stack, busy_percent, machine_cpu, machine_facts

OUT = Path(".benchmarks/db_load.json")
BUDGET_PER_S = 1000  # the specification's ceiling on the free tier
# What sent a statement (the store's function), by the part of a turn it belongs to.
PART = {
    "claim_turn": "turn start",
    "create_conversation": "turn start",
    "begin_turn": "turn start",
    "finish_answer": "turn end",
    "release_turn": "turn end",
    "flush_progress": "progress flushes",
    "live_answer": "resume reads",
    "answer": "resume reads",
    "request_stop": "stops",
}
PARTS = ["turn start", "turn end", "progress flushes", "resume reads", "stops", "other"]
EXECUTED = {"statement", "single", "auth", "begin", "commit", "rollback"}  # "check" executes nothing


@dataclass
class Seen:
    """One answer as a person (or a resume reader) saw it."""

    answer_id: str | None = None
    conversation_id: str | None = None
    pieces: list[str] = field(default_factory=list)
    finished: bool = False
    error: str | None = None
    sent: float = field(default_factory=time.perf_counter)  # when the request went out
    first: float | None = None  # when its first token came
    last: float = 0.0  # when its latest token came
    max_gap: float = 0.0  # the longest wait between two of its tokens

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass
class Load:
    streaming: int = 0  # answers between their start event and their end, now
    reading: int = 0  # resume readers following an answer, now
    people_started: int = 0
    turns: list[Seen] = field(default_factory=list)
    reads: list[tuple[Seen, Seen]] = field(default_factory=list)  # (the answer, as its resume reader saw it)
    failures: Counter[str] = field(default_factory=Counter)
    readers: set[asyncio.Task[None]] = field(default_factory=set)


async def follow(response: httpx.Response, seen: Seen, on_first_text: Callable[[], None] | None = None) -> None:
    async for line in response.aiter_lines():
        if not line.startswith("data: "):
            continue
        if line == "data: [DONE]":
            break
        part = json.loads(line[6:])
        kind = part["type"]
        if kind == "start":
            seen.answer_id = part["messageId"]
        elif kind == "data-conversation":
            seen.conversation_id = part["data"]["conversationId"]
        elif kind == "text-delta":
            now = time.perf_counter()
            if seen.first is None:
                seen.first = now
            else:
                seen.max_gap = max(seen.max_gap, now - seen.last)
            seen.last = now
            seen.pieces.append(part["delta"])
            if len(seen.pieces) == 1 and on_first_text is not None:
                on_first_text()
        elif kind == "finish":
            seen.finished = True
        elif kind == "error":
            seen.error = part["errorText"]


async def read_from_other_instance(
    client: httpx.AsyncClient, load: Load, answer: Seen, headers: dict[str, str]
) -> None:
    """Follow ``answer`` from instance B, which has it only as a row (204 until its row exists)."""
    seen = Seen()
    try:
        for _ in range(20):
            async with client.stream("GET", f"/api/chat/{answer.conversation_id}/stream", headers=headers) as response:
                # 204: no answer yet, or 404: no conversation yet (a new one's rows are written alongside
                # the model call, so its first token can come before them).
                if response.status_code in (204, 404):
                    await asyncio.sleep(0.25)
                    continue
                response.raise_for_status()
                load.reading += 1
                try:
                    await follow(response, seen)
                finally:
                    load.reading -= 1
                load.reads.append((answer, seen))
                return
        load.failures["resume: nothing to follow"] += 1
    except httpx.HTTPStatusError as exc:
        load.failures[f"resume: HTTP {exc.response.status_code}"] += 1
    except httpx.HTTPError as exc:
        load.failures[f"resume: {type(exc).__name__}"] += 1


async def person(
    n: int,
    stack: Stack,
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    load: Load,
    *,
    level: int,
    stop: asyncio.Event,
    start_after_s: float,
    reader: bool,
) -> None:
    """One person asking, one turn after another, in one conversation, until ``stop``; with a
    resume reader on instance B for each answer if ``reader``."""
    await asyncio.sleep(start_after_s)
    load.people_started += 1
    headers = stack.auth(f"00000000-0000-4000-8000-{level:04x}{n:08x}")
    conversation: str | None = None
    turn = 0
    while not stop.is_set():
        body: dict[str, Any] = {"message": f"Question {turn} from person {n}: tell me about databases."}
        if conversation is not None:
            body["conversationId"] = conversation
        seen = Seen()

        def read_it(seen: Seen = seen) -> None:  # once the answer has a row to read, on the other instance
            task = asyncio.get_running_loop().create_task(read_from_other_instance(clients[1], load, seen, headers))
            load.readers.add(task)
            task.add_done_callback(load.readers.discard)

        try:
            async with clients[0].stream("POST", "/api/chat", json=body, headers=headers) as response:
                response.raise_for_status()
                load.streaming += 1
                try:
                    await follow(response, seen, read_it if reader else None)
                finally:
                    load.streaming -= 1
        except httpx.HTTPStatusError as exc:
            load.failures[f"chat: HTTP {exc.response.status_code}"] += 1
            await asyncio.sleep(1)
            continue
        except httpx.HTTPError as exc:
            load.failures[f"chat: {type(exc).__name__}"] += 1
            await asyncio.sleep(1)
            continue
        load.turns.append(seen)
        conversation = seen.conversation_id or conversation
        turn += 1


class Postgres:
    """What the server itself counts for the scratch database, read from outside it."""

    def __init__(self, stack: Stack) -> None:
        self.database = str(conninfo_to_dict(stack.database_url)["dbname"])
        self._admin_url, self._database_url = stack.admin_url, stack.database_url
        self.statements_available = False

    async def __aenter__(self) -> Postgres:
        self._admin = await psycopg.AsyncConnection.connect(self._admin_url, autocommit=True)
        row = await (await self._admin.execute("show shared_preload_libraries")).fetchone()
        self.version = str((await (await self._admin.execute("show server_version")).fetchone() or ["?"])[0])
        if row and "pg_stat_statements" in row[0]:
            # Read in the scratch database (where the extension is made); its own reads are left out.
            self._stats = await psycopg.AsyncConnection.connect(self._database_url, autocommit=True)
            await self._stats.execute("create extension if not exists pg_stat_statements")
            self.statements_available = True
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._admin.close()
        if self.statements_available:
            await self._stats.close()

    async def transactions(self) -> int:
        cursor = await self._admin.execute(
            "select xact_commit + xact_rollback from pg_stat_database where datname = %s", (self.database,)
        )
        row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def statements(self) -> Counter[str]:
        if not self.statements_available:
            return Counter()
        cursor = await self._stats.execute(
            "select query, calls from pg_stat_statements"
            " where dbid = (select oid from pg_database where datname = current_database())"
            " and query not like '%pg_stat_statements%'"
        )
        calls: Counter[str] = Counter()
        for query, n in await cursor.fetchall():
            calls[" ".join(query.split())[:80]] += n
        return calls

    async def connections(self) -> tuple[int, int]:
        """(open, busy: not idle) connections to the scratch database now."""
        cursor = await self._admin.execute(
            "select count(*), count(*) filter (where state <> 'idle') from pg_stat_activity where datname = %s",
            (self.database,),
        )
        row = await cursor.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)


async def app_counts(stack: Stack, *, reset: bool) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=30) as client:
        shots = []
        for url in stack.app_urls:
            response = await client.get(f"{url}/_bench/db", params={"reset": "1"} if reset else None)
            shots.append(response.raise_for_status().json())
        return shots


async def counted(stack: Stack, pg: Postgres, *, reset: bool) -> tuple[list[dict[str, Any]], tuple[int, Counter[str]]]:
    """Both sides' counts at one moment: the apps' (``reset`` their peaks) and Postgres' own."""
    return await app_counts(stack, reset=reset), (await pg.transactions(), await pg.statements())


def statement_counts(shots: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """(part, function, kind) → count, over every instance."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for shot in shots:
        for row in shot["statements"]:
            counts[(PART.get(row["function"], "other"), row["function"], row["kind"])] += row["count"]
    return counts


def script_answers(stack: Stack, *, answers: int, tokens: int, token_delay_s: float) -> None:
    """Every answer the simulator gives from now on (to ``answers`` requests): ``tokens`` words, paced."""
    stack.forget_simulated_requests()
    scenario = {"tokens": tokens, "token_delay_s": token_delay_s, "first_token_delay_s": 0.02}
    for provider in ("groq", "gemini"):
        body = {"provider": provider, "scenarios": [scenario] * answers}
        httpx.post(f"{stack.simulator_url}/_simulator/scenarios", json=body, timeout=60).raise_for_status()


async def verify(database_url: str, load: Load) -> dict[str, Any]:
    """Every answer a person saw, against its row and its usage."""
    finished = [seen for seen in load.turns if seen.finished and seen.error is None]
    saved = await saved_as_streamed(database_url, [(seen.answer_id or "", seen.text) for seen in finished])
    pieces = [len(seen.pieces) for seen in finished]
    return {
        "turns": len(load.turns),
        "finished": len(finished),
        **saved,
        "pieces_per_answer": [min(pieces, default=0), max(pieces, default=0)],
        "failures": dict(load.failures + Counter(f"error event: {seen.error}" for seen in load.turns if seen.error)),
        "resume_reads": len(load.reads),
        "resume_reads_same_text": sum(1 for answer, read in load.reads if read.finished and read.text == answer.text),
    }


def rates(
    window_s: float,
    counts: Counter[tuple[str, str, str]],
    pg_transactions: int,
    pg_statements: Counter[str],
) -> dict[str, Any]:
    def per_s(n: float) -> float:
        return round(n / window_s, 1)

    executed = {part: sum(n for (p, _, k), n in counts.items() if p == part and k in EXECUTED) for part in PARTS}
    kinds: Counter[str] = Counter()
    for (_, _, kind), n in counts.items():
        kinds[kind] += n
    turns_begun = counts[("turn start", "begin_turn", "begin")] + counts[("turn start", "begin_turn", "implicit")]
    turn_statements = executed["turn start"] + executed["turn end"]
    ticks = counts[("progress flushes", "flush_progress", "single")]
    return {
        "statements_per_s": per_s(sum(executed.values())),
        "statements_per_s_without_begin_commit": per_s(sum(kinds[k] for k in ("statement", "single", "auth"))),
        "statements_per_s_by_part": {part: per_s(n) for part, n in executed.items() if n},
        "transactions_per_s": per_s(kinds["begin"] + kinds["single"] + kinds["implicit"]),
        "pool_checks_per_s": per_s(kinds["check"]),
        "postgres_transactions_per_s": per_s(pg_transactions),
        "postgres_statements_per_s": per_s(sum(pg_statements.values())) if pg_statements else None,
        "postgres_top_statements_per_s": {q: per_s(n) for q, n in pg_statements.most_common(8)},
        "turns_begun_per_s": per_s(turns_begun),
        "statements_per_turn": round(turn_statements / turns_begun, 1) if turns_begun else None,
        "flush_ticks_per_s": per_s(ticks),
        "resume_reads_per_s": per_s(counts[("resume reads", "answer", "statement")]),
        "by_function_and_kind": {f"{f}/{k}": n for (_, f, k), n in sorted(counts.items())},
    }


async def level(stack: Stack, pg: Postgres, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """N people chatting until the window has been counted; then every answer they saw, checked."""
    answer_s = args.tokens * args.token_delay
    ramp_s = max(n / args.ramp_per_s, answer_s)
    # Enough scripted answers for every turn of the run (more than needed: the queue is cleared after).
    turns_each = math.ceil((ramp_s + 90 + args.settle + args.window) / answer_s) + 3
    script_answers(stack, answers=n * turns_each, tokens=args.tokens, token_delay_s=args.token_delay)
    load, stop = Load(), asyncio.Event()
    idle_rss = stack.app_rss_bytes()
    every = max(1, round(1 / args.resume_share)) if args.resume_share > 0 else 0
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(120, connect=60)
    async with (
        httpx.AsyncClient(base_url=stack.app_urls[0], limits=limits, timeout=timeout) as client_a,
        httpx.AsyncClient(base_url=stack.app_urls[-1], limits=limits, timeout=timeout) as client_b,
    ):
        people = [
            asyncio.create_task(
                person(
                    i, stack, (client_a, client_b), load,
                    level=n, stop=stop, start_after_s=i * ramp_s / n, reader=every > 0 and i % every == 0,
                )
            )
            for i in range(n)
        ]  # fmt: skip
        # Steady state: everyone has started and (nearly) all their answers are streaming.
        deadline = time.monotonic() + ramp_s + 90
        while not (load.people_started == n and load.streaming >= 0.97 * n) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        reached = load.streaming
        await asyncio.sleep(args.settle)
        window_from = time.perf_counter()
        measured = await measure(stack, pg, load, args.window)
        window_to = time.perf_counter()
        stop.set()
        await asyncio.wait_for(asyncio.gather(*people), timeout=answer_s * 3 + 120)
        if load.readers:
            await asyncio.wait_for(asyncio.gather(*load.readers), timeout=60)
    in_window = [t for t in load.turns if window_from <= t.sent <= window_to and t.first is not None]
    return {
        "streams": n,
        "answer_s": answer_s,
        "streaming_when_measured": reached,
        "app_rss_idle_mb": round(idle_rss / 2**20, 1),
        # Turns sent while every stream was open: their first token and their longest gap.
        "timing": {
            "turns": len(in_window),
            "ttft_p50_ms": ms(percentile([t.first - t.sent for t in in_window if t.first], 0.5)),
            "ttft_p99_ms": ms(percentile([t.first - t.sent for t in in_window if t.first], 0.99)),
            "max_gap_p99_ms": ms(percentile([t.max_gap for t in load.turns if t.finished], 0.99)),
        },
        **measured,
        "check": await verify(stack.database_url, load),
    }


async def measure(stack: Stack, pg: Postgres, load: Load, window_s: float) -> dict[str, Any]:
    """Both sides' counts over ``window_s``, as rates; what was open, lent and busy meanwhile."""
    before_apps, (before_tx, before_st) = await counted(stack, pg, reset=True)
    began, machine_before, load_before = time.monotonic(), machine_cpu(), time.process_time()
    samples: list[tuple[int, int, int, int]] = []
    rss = 0
    while time.monotonic() - began < window_s:
        await asyncio.sleep(0.5)
        samples.append((load.streaming, load.reading, *(await pg.connections())))
        rss = max(rss, stack.app_rss_bytes())
    after_apps, (after_tx, after_st) = await counted(stack, pg, reset=False)
    elapsed = time.monotonic() - began
    pairs = list(zip(after_apps, before_apps, strict=True))
    return {
        "window_s": round(elapsed, 1),
        "streaming_in_window": {
            "min": min(s[0] for s in samples),
            "mean": round(statistics.fmean(s[0] for s in samples)),
        },
        "resume_readers_in_window_mean": round(statistics.fmean(s[1] for s in samples)),
        "app_rss_peak_mb": round(rss / 2**20, 1),
        "postgres_connections_max": max(s[2] for s in samples),
        "postgres_busy_connections_max": max(s[3] for s in samples),
        "pool": {
            "most_lent_in_window": [a["pool"]["most_lent"] for a, _ in pairs],
            "max_size": [a["pool"]["max_size"] for a, _ in pairs],
            "longest_wait_ms_in_window": [a["pool"]["longest_wait_ms"] for a, _ in pairs],
            "timeouts_in_window": [a["pool"]["timeouts"] - b["pool"]["timeouts"] for a, b in pairs],
        },
        "app_cpu_percent_of_one_core": [
            round(100 * (a["cpu_s"] - b["cpu_s"]) / (a["clock_s"] - b["clock_s"])) for a, b in pairs
        ],
        "load_cpu_percent_of_one_core": round(100 * (time.process_time() - load_before) / elapsed),
        "machine_cpu_busy_percent": busy_percent(machine_before, machine_cpu()),
        **rates(
            elapsed,
            statement_counts(after_apps) - statement_counts(before_apps),
            after_tx - before_tx,
            after_st - before_st,
        ),
    }


def errors_logged(stack: Stack) -> list[int]:
    """Each app's ERROR lines; its log is kept in .benchmarks/ (the stack's own goes with it)."""
    counts = []
    OUT.parent.mkdir(parents=True, exist_ok=True)
    for n, log in enumerate(stack.logs):
        text = log.read_text(errors="replace")
        (OUT.parent / f"db_load-app-{n}.log").write_text(text)
        counts.append(sum(1 for line in text.splitlines() if "ERROR" in line))
    return counts


def table(results: list[dict[str, Any]]) -> str:
    rows: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
        ("streams open (mean in window)", lambda r: f"{r['streaming_in_window']['mean']} of {r['streams']}"),
        ("statements/s, all (budget 1,000)", lambda r: r["statements_per_s"]),
        ("  without BEGIN/COMMIT", lambda r: r["statements_per_s_without_begin_commit"]),
        ("  turn start", lambda r: r["statements_per_s_by_part"].get("turn start", 0)),
        ("  turn end", lambda r: r["statements_per_s_by_part"].get("turn end", 0)),
        ("  progress flushes (+ stop checks)", lambda r: r["statements_per_s_by_part"].get("progress flushes", 0)),
        ("  resume reads", lambda r: r["statements_per_s_by_part"].get("resume reads", 0)),
        ("transactions/s (app; Postgres)", lambda r: f"{r['transactions_per_s']}; {r['postgres_transactions_per_s']}"),
        ("pg_stat_statements calls/s", lambda r: r["postgres_statements_per_s"] or "n/a"),
        ("turns begun/s; statements a turn", lambda r: f"{r['turns_begun_per_s']}; {r['statements_per_turn']}"),
        ("flush ticks/s; resume readers", lambda r: f"{r['flush_ticks_per_s']}; {r['resume_readers_in_window_mean']}"),
        ("pool: most lent / max; pg busy", lambda r: _pool(r)),
        ("CPU: app A; B; load (% of a core)", lambda r: _cpu(r)),
        ("CPU: machine busy (% of all cores)", lambda r: r["machine_cpu_busy_percent"]),
        ("turns finished / saved as streamed", lambda r: f"{r['check']['finished']}/{r['check']['saved_as_streamed']}"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    lines = [f"{'':{width}}  " + "  ".join(f"{r['streams']:>14}" for r in results)]
    lines += [f"{name:{width}}  " + "  ".join(f"{str(cell(r)):>14}" for r in results) for name, cell in rows]
    return "\n".join(lines)


def _cpu(result: dict[str, Any]) -> str:
    return "; ".join(map(str, [*result["app_cpu_percent_of_one_core"], result["load_cpu_percent_of_one_core"]]))


def _pool(result: dict[str, Any]) -> str:
    pool = result["pool"]
    return f"{pool['most_lent_in_window'][0]}/{pool['max_size'][0]}; {result['postgres_busy_connections_max']}"


async def run(stack: Stack, args: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    results = []
    async with Postgres(stack) as pg:
        for n in args.streams:
            results.append(await level(stack, pg, n, args))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "by_function_and_kind"}))  # noqa: T201
        return pg.version, results


def options() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, nargs="+", default=[100, 1000], help="concurrent streams, one run each")
    parser.add_argument("--tokens", type=int, default=20, help="tokens in every answer")
    parser.add_argument("--token-delay", type=float, default=1.0, help="seconds between an answer's tokens")
    parser.add_argument("--ramp-per-s", type=float, default=100, help="streams started a second until all are")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after all are open before counting")
    parser.add_argument("--window", type=float, default=10.0, help="seconds counted")
    parser.add_argument("--resume-share", type=float, default=0.1, help="share of people with a resume reader")
    parser.add_argument("--pool-size", type=int, default=20, help="DATABASE_POOL_MAX_SIZE of each instance")
    parser.add_argument("--flush-interval", type=float, default=1.0, help="CHAT_FLUSH_INTERVAL_S")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser


def more_descriptors() -> None:
    """A socket per stream, a reader and its provider call: the default 1,024 descriptors are too few."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def counting_stack(args: argparse.Namespace) -> AbstractContextManager[Stack]:
    """Two app instances that count their statements (db_counting.py), on one database."""
    env = {"DATABASE_POOL_MAX_SIZE": str(args.pool_size), "CHAT_FLUSH_INTERVAL_S": str(args.flush_interval)}
    return app_stack(instances=2, app="tests.bench.db_counting:app", env=env)


def main() -> None:
    args = options().parse_args()
    more_descriptors()
    machine = machine_facts()
    with counting_stack(args) as stack:
        version, results = asyncio.run(run(stack, args))
        logged = errors_logged(stack)
    machine["postgres"] = version
    report = {
        "machine": machine,
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "errors_logged_by_each_app": logged,
        "results": results,
    }
    print(json.dumps(machine), table(results), f"errors logged by each app: {logged}", sep="\n")  # noqa: T201
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
