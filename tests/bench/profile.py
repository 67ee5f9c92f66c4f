"""Where the app's time goes under load: py-spy samples the app process while a chat round runs.

    uv run python -m tests.bench.profile --concurrency 100 --chats 3000

Writes the collapsed stacks to .benchmarks/profile-<concurrency>.txt (speedscope and
flamegraph tools read them) and prints the functions with the most samples on top of the stack
(own time) and anywhere on it (inclusive), in the app's event-loop thread and in all threads.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.bench.chat_load import chimera_job, run_load
from tests.bench.harness import Stack, app_stack

OUT = Path(".benchmarks")


def summarize(collapsed: Path, top: int) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [f.split(" (", 1)[0] + " " + f.rsplit("/", 1)[-1].rstrip(")") for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"{total} samples", "", "own:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)


async def profiled_round(stack: Stack, concurrency: int, chats: int, rate: int, idle: bool) -> Path:
    OUT.mkdir(exist_ok=True)
    out = OUT / f"profile-{concurrency}.txt"
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    await run_load(chimera_job(stack, min(concurrency, 10), 20))  # warm: the runtime starts on first use
    args = [spy, "record", "--pid", str(stack.app_pids[0]), "--rate", str(rate), "--format", "raw"]
    args += ["--output", str(out), "--nonblocking"] + (["--idle"] if idle else [])
    recorder = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answer, _ = await run_load(chimera_job(stack, concurrency, chats))
    finally:
        recorder.send_signal(2)  # SIGINT: py-spy writes what it has and exits
        recorder.wait(timeout=60)
    print(f"{len(answer['chats'])} chats in {answer['elapsed_s']:.1f} s")  # noqa: T201
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--chats", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=200, help="samples a second")
    parser.add_argument("--idle", action="store_true", help="count samples of threads that wait, too")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with app_stack() as stack:
        out = asyncio.run(profiled_round(stack, args.concurrency, args.chats, args.rate, args.idle))
    print(summarize(out, args.top))  # noqa: T201


if __name__ == "__main__":
    main()
