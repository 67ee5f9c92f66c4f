"""Chat rounds: time to first token, the largest gap between tokens and saved chats a second, at a
given concurrency, through Chimera and, for the same load, from the simulator directly.

The load comes from a process of its own (``tests.bench.load``, raw HTTP/1.1): ``concurrency``
people, each with their own token, each continuing one conversation, a chat as soon as the last
answer ended. The simulator answers every chat at one fixed pace (harness.Pace); reached directly
at the same concurrency, it gives the model's own time, and Chimera's *added* time to first token
and added largest gap are Chimera's percentile minus the simulator's. Every answer a person saw is
checked against its row (complete, exactly the text streamed) and its usage row. The app's
resident memory is sampled while the round runs.

    uv run python -m tests.bench.chat_load --concurrency 1 100 --chats 200 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import psycopg
from chimera.providers.catalogue import load_catalogue

from tests.bench.harness import Stack, app_stack, busy_percent, cpu_seconds, machine_cpu
from tests.bench.load import Job


def person_id(level: int, n: int) -> str:
    """A distinct person (a UUID, as Supabase's) for each of a round's people."""
    return f"00000000-0000-4000-8000-{level:04x}{n:08x}"


def groq_model() -> str:
    """A Groq model id the simulator serves (the shipped catalogue's first)."""
    return next(m.provider_model for m in load_catalogue().models if m.provider == "groq")


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; NaN for none."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def run_load(job: Job, *, sample_rss: tuple[Stack, int] | None = None) -> tuple[dict[str, Any], int]:
    """Run ``job`` in its own process; its answer, and the app's peak resident memory meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench.load",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(asdict(job)).encode())
    proc.stdin.close()
    peak = 0
    done = asyncio.ensure_future(proc.communicate())
    while sample_rss is not None and not done.done():
        peak = max(peak, sample_rss[0].app_rss_bytes(sample_rss[1]))
        await asyncio.wait([done], timeout=0.25)
    out, _ = await done
    if proc.returncode != 0:
        raise RuntimeError(f"the load process failed ({proc.returncode})")
    return json.loads(out), peak


def timing(chats: list[dict[str, Any]], elapsed_s: float) -> dict[str, Any]:
    """Time to first token, largest gap and rate over the chats that streamed an answer."""
    answered = [c for c in chats if c["first"] is not None and c["error"] is None]
    unanswered = [c for c in chats if c["first"] is None or c["error"] is not None]
    ttft = [c["first"] - c["sent"] for c in answered]
    gaps = [c["max_gap"] for c in answered]
    return {
        "chats": len(chats),
        "answered": len(answered),
        "errors": dict(Counter(c["error"] or "no answer" for c in unanswered)),
        "chats_per_s": round(len(answered) / elapsed_s, 1) if elapsed_s else None,
        "ttft_p50_ms": ms(percentile(ttft, 0.5)),
        "ttft_p99_ms": ms(percentile(ttft, 0.99)),
        "max_gap_p50_ms": ms(percentile(gaps, 0.5)),
        "max_gap_p99_ms": ms(percentile(gaps, 0.99)),
        "total_p50_ms": ms(percentile([c["end"] - c["sent"] for c in answered], 0.5)),
    }


async def saved_as_streamed(database_url: str, answers: Sequence[tuple[str, str]]) -> dict[str, int]:
    """(answer id, text a person saw) against the rows: complete with exactly that text, and costed."""
    ids = [answer_id for answer_id, _ in answers]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cursor = await conn.execute("select id, status, content from messages where id = any(%s)", (ids,))
        rows = {row[0]: (row[1], row[2]) for row in await cursor.fetchall()}
        cursor = await conn.execute(
            "select count(distinct message_id) from ai_usage where message_id = any(%s)", (ids,)
        )
        costed = (await cursor.fetchone() or [0])[0]
        cursor = await conn.execute("select count(*) from messages where status = 'streaming'")
        streaming = (await cursor.fetchone() or [0])[0]
        cursor = await conn.execute(
            "select provider, count(*) from ai_usage where message_id = any(%s) group by provider", (ids,)
        )
        providers = dict(await cursor.fetchall())
    saved = sum(1 for answer_id, text in answers if rows.get(answer_id) == ("complete", text))
    return {
        "saved_as_streamed": saved,
        "with_usage_row": costed,
        "rows_left_streaming": streaming,
        "answered_by": providers,  # the benchmark measures Groq's path: a fallback would show here
    }


def chimera_job(stack: Stack, concurrency: int, chats: int, *, ramp_s: float = 0.0) -> Job:
    tokens = [stack.token(person_id(concurrency, n)) for n in range(concurrency)]
    host, port = stack.app_url.removeprefix("http://").split(":")
    return Job("chimera", host, int(port), concurrency, chats, tokens=tokens, ramp_s=ramp_s)


def direct_job(stack: Stack, concurrency: int, chats: int, *, ramp_s: float = 0.0) -> Job:
    return Job("groq", "127.0.0.1", stack.simulator_port, concurrency, chats, model=groq_model(), ramp_s=ramp_s)


async def direct_round(stack: Stack, concurrency: int, chats: int) -> dict[str, Any]:
    """The simulator's own time at this concurrency: what Chimera's figures are compared with."""
    answer, _ = await run_load(direct_job(stack, concurrency, chats))
    return {"concurrency": concurrency, **timing(answer["chats"], answer["elapsed_s"]), "load_cpu_s": answer["cpu_s"]}


async def chimera_round(stack: Stack, concurrency: int, chats: int, direct: dict[str, Any]) -> dict[str, Any]:
    """``chats`` chats through Chimera by ``concurrency`` people; added times against ``direct``."""
    idle = stack.app_rss_bytes()
    pids = {"app": stack.app_pids[0], "simulator": stack.simulator_pid}
    cpu_before, machine_before = {k: cpu_seconds(p) for k, p in pids.items()}, machine_cpu()
    answer, peak = await run_load(chimera_job(stack, concurrency, chats), sample_rss=(stack, 0))
    used = {k: cpu_seconds(p) - cpu_before[k] for k, p in pids.items()}
    cpu = {k: round(100 * s / answer["elapsed_s"]) for k, s in used.items()}
    result = timing(answer["chats"], answer["elapsed_s"])
    seen = [(c["answer_id"], c["text"]) for c in answer["chats"] if c["finished"] and c["answer_id"]]
    return {
        "concurrency": concurrency,
        **result,
        "added_ttft_p50_ms": round(result["ttft_p50_ms"] - direct["ttft_p50_ms"], 2),
        "added_ttft_p99_ms": round(result["ttft_p99_ms"] - direct["ttft_p99_ms"], 2),
        "added_max_gap_p99_ms": round(result["max_gap_p99_ms"] - direct["max_gap_p99_ms"], 2),
        "finished": len(seen),
        **await saved_as_streamed(stack.database_url, seen),
        "app_rss_before_mb": round(idle / 2**20, 1),
        "app_rss_peak_mb": round(peak / 2**20, 1),
        "cpu_percent_of_one_core": cpu | {"load": round(100 * answer["cpu_s"] / answer["elapsed_s"])},
        # What one chat costs the app in CPU: less disturbed by other load on the machine than rates.
        "app_cpu_ms_per_chat": round(1000 * used["app"] / max(1, len(answer["chats"])), 2),
        "machine_cpu_busy_percent": busy_percent(machine_before, machine_cpu()),
        "simulator": direct,
    }


async def rounds(stack: Stack, concurrency: Sequence[int], chats: Sequence[int]) -> list[dict[str, Any]]:
    results = []
    for level, count in zip(concurrency, chats, strict=True):
        direct = await direct_round(stack, level, count)
        results.append(await chimera_round(stack, level, count, direct))
        print(json.dumps(results[-1]), flush=True)  # noqa: T201
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--chats", type=int, nargs="+", default=[200, 2000], help="chats per round, one per level")
    args = parser.parse_args()
    with app_stack() as stack:
        asyncio.run(rounds(stack, args.concurrency, args.chats))


if __name__ == "__main__":
    main()
