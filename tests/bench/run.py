"""`make bench`: every figure of issue 11, from a clean checkout, in one table and one JSON file.

1. Cold start: the chat function's import (fresh processes), and from run.sh's exec to the first
   token of a first chat (the stack's database and simulator).
2. One app process as the chat function runs it (uvicorn, Postgres, authentication, row-level
   security, progress flushes; the limits raised): rounds at 1 and 100 concurrent streams
   (chat_load.py), each measured against the simulator reached directly at the same concurrency;
   every answer checked against its row. Then the history and usage routes for a person with
   10,000 messages (history_load.py).
3. 1,000 concurrent streams (db_load.py: two instances that count their statements, answers
   20 s long, a tenth followed by a resume reader on the second instance): database statements a
   second, every turn saved, first token and gaps while all 1,000 are open, and the app's memory
   against its idle memory; the simulator reached directly with 1,000 answers at the same pace.

Writes .benchmarks/bench.json (machine, date, every figure) and prints the table, each figure
against its target. About two minutes on a 2-core machine.

    uv run python -m tests.bench.run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from tests.bench import chat_load, cold_start, db_load, history_load
from tests.bench.harness import Stack, app_stack, machine_facts

OUT = Path(".benchmarks/bench.json")


def cold(stack: Stack, runs: int) -> dict[str, Any]:
    env = cold_start.lean_env()
    imports = [cold_start.import_seconds("chat", env) for _ in range(runs)]
    firsts = [cold_start.first_token_seconds(stack) for _ in range(max(1, runs // 2))]
    return {
        "chat_import_ms": round(statistics.median(imports) * 1000),
        "start_to_first_token_ms": round(statistics.median(firsts) * 1000),
    }


async def one_process(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    await chat_load.run_load(chat_load.chimera_job(stack, 1, 1))  # the runtime starts on first use
    idle = stack.app_rss_bytes()
    rounds = await chat_load.rounds(stack, [1, 100], [args.chats_1, args.chats_100])
    return {"app_rss_idle_mb": round(idle / 2**20, 1), "rounds": rounds}


async def direct_at_pace(stack: Stack, streams: int, options: argparse.Namespace) -> dict[str, Any]:
    """The simulator alone, ``streams`` at once at db_load's pace (a few tokens are enough)."""
    tokens = 4
    scenario = {"tokens": tokens, "token_delay_s": options.token_delay, "first_token_delay_s": 0.02}
    stack.forget_simulated_requests()
    body = {"provider": "groq", "scenarios": [scenario] * streams}
    httpx.post(f"{stack.simulator_url}/_simulator/scenarios", json=body, timeout=60).raise_for_status()
    ramp_s = streams / options.ramp_per_s
    job = replace(chat_load.direct_job(stack, streams, streams, ramp_s=ramp_s), warmup=0)  # a scripted answer each
    answer, _ = await chat_load.run_load(job)
    stack.forget_simulated_requests()
    return chat_load.timing(answer["chats"], answer["elapsed_s"])


async def thousand(stack: Stack, streams: int, options: argparse.Namespace) -> dict[str, Any]:
    # One chat first: the runtime (pool, SDK clients) starts on first use, and is not a stream's.
    await chat_load.run_load(chat_load.chimera_job(stack, 1, 1))
    direct = await direct_at_pace(stack, streams, options)
    async with db_load.Postgres(stack) as pg:
        result = await db_load.level(stack, pg, streams, options)
        result["postgres"] = pg.version
    result["simulator"] = direct
    result["errors_logged_by_each_app"] = db_load.errors_logged(stack)
    return result


def figures(report: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(what, result, target, met) for the table."""
    one, hundred = report["one_process"]["rounds"]
    big = report["thousand"]
    timing, sim, check = big["timing"], big["simulator"], big["check"]
    per_stream_kb = (big["app_rss_peak_mb"] - big["app_rss_idle_mb"]) * 1024 / big["streams"]
    added_1000_p50 = timing["ttft_p50_ms"] - sim["ttft_p50_ms"]
    added_1000_p99 = timing["ttft_p99_ms"] - sim["ttft_p99_ms"]
    gap_1000 = timing["max_gap_p99_ms"] - sim["max_gap_p99_ms"]
    history = report["history"]
    idle_mb = report["one_process"]["app_rss_idle_mb"]
    n = f"{big['streams']:,}"

    def latency(route: str) -> str:
        return f"p50 {history[route]['p50_ms']} ms, p95 {history[route]['p95_ms']} ms"

    def saved(r: dict[str, Any]) -> bool:
        return r["saved_as_streamed"] == r["chats"] and not r["errors"]

    rows: list[tuple[str, str, str, bool | None]] = [
        ("added TTFT p50, 1 stream", f"{one['added_ttft_p50_ms']} ms", "≤ 3 ms", one["added_ttft_p50_ms"] <= 3),
        ("added TTFT p99, 1 stream", f"{one['added_ttft_p99_ms']} ms", "", None),
        ("added TTFT p50, 100 streams", f"{hundred['added_ttft_p50_ms']} ms", "", None),
        (
            "added TTFT p99, 100 streams",
            f"{hundred['added_ttft_p99_ms']} ms",
            "≤ 50 ms",
            hundred["added_ttft_p99_ms"] <= 50,
        ),
        (f"added TTFT p50 / p99, {n} streams", f"{added_1000_p50:.1f} / {added_1000_p99:.1f} ms", "", None),
        ("added largest gap p99, 1 stream", f"{one['added_max_gap_p99_ms']} ms", "", None),
        (
            "added largest gap p99, 100 streams",
            f"{hundred['added_max_gap_p99_ms']} ms",
            "≤ 50 ms",
            hundred["added_max_gap_p99_ms"] <= 50,
        ),
        (f"added largest gap p99, {n} streams", f"{gap_1000:.1f} ms", "", None),
        ("saved chats/s, 100 streams", f"{hundred['chats_per_s']}", "≥ 250", hundred["chats_per_s"] >= 250),
        ("  the simulator alone, 100 streams", f"{hundred['simulator']['chats_per_s']}", "", None),
        (
            "chats saved as streamed, 1 / 100 streams",
            f"{one['saved_as_streamed']}/{one['chats']}, {hundred['saved_as_streamed']}/{hundred['chats']}",
            "all, no errors",
            saved(one) and saved(hundred),
        ),
        (
            f"{n} streams: errors; turns saved as streamed",
            f"{sum(check['failures'].values())}; {check['saved_as_streamed']}/{check['turns']}",
            "0; all",
            not check["failures"] and check["saved_as_streamed"] == check["turns"],
        ),
        (
            f"{n} streams: database statements/s",
            f"{big['statements_per_s']} ({big['postgres_transactions_per_s']} transactions)",
            "< 1,000",
            big["statements_per_s"] < 1000,
        ),
        ("idle memory (RSS)", f"{idle_mb} MB", "≤ 150 MB", idle_mb <= 150),
        ("memory per concurrent stream", f"{per_stream_kb:.0f} KB", "≤ 100 KB", per_stream_kb <= 100),
        ("cold start: chat import", f"{report['cold']['chat_import_ms']} ms", "", None),
        ("cold start: exec to first token", f"{report['cold']['start_to_first_token_ms']} ms", "", None),
        ("GET /api/conversations, 10,000 messages", latency("GET /api/conversations"), "", None),
        ("GET /api/conversations/{id}", latency("GET /api/conversations/{id} (20 messages)"), "", None),
        ("GET /api/usage", latency("GET /api/usage (30 days)"), "", None),
        (
            f"load generator CPU, 100 / {n} streams",
            f"{hundred['cpu_percent_of_one_core']['load']}% / {big['load_cpu_percent_of_one_core']}% of a core",
            "",
            None,
        ),
    ]
    return rows


def table(rows: list[tuple[str, str, str, bool | None]]) -> str:
    marks: dict[bool | None, str] = {True: "met", False: "MISSED", None: ""}
    width = [max(len(str(r[i])) for r in rows) for i in range(3)]
    return "\n".join(
        f"{what:{width[0]}}  {result:>{width[1]}}  {target:{width[2]}}  {marks[met]}".rstrip()
        for what, result, target, met in rows
    )


def section(name: str, step: Callable[[], Any]) -> Any:
    print(f"-- {name}", file=sys.stderr, flush=True)  # noqa: T201
    return step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats-1", type=int, default=150, help="chats at 1 stream")
    parser.add_argument("--chats-100", type=int, default=2000, help="chats at 100 streams")
    parser.add_argument("--streams", type=int, default=1000, help="the database round's concurrent streams")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--history-requests", type=int, default=200)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    db_load.more_descriptors()
    report: dict[str, Any] = {"machine": machine_facts(), "git": git_head()}
    with app_stack() as stack:
        report["cold"] = section("cold start", lambda: cold(stack, args.cold_runs))
        report["one_process"] = section("1 and 100 streams", lambda: asyncio.run(one_process(stack, args)))
        report["history"] = section("history and usage", lambda: history_load.run(stack, args.history_requests))
    options = db_load.options().parse_args([])
    with db_load.counting_stack(options) as stack:
        report["thousand"] = section(
            f"{args.streams} streams", lambda: asyncio.run(thousand(stack, args.streams, options))
        )
    report["table"] = [dict(zip(("what", "result", "target", "met"), r, strict=True)) for r in figures(report)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["machine"]), table(figures(report)), f"(all figures: {args.out})", sep="\n")  # noqa: T201


def git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
