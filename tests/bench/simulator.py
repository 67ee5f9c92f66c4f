"""The provider simulator as a benchmark runs it: ``python -m tests.bench.simulator --port N``.

As ``chimera simulator``, with the pace of every answer set from the command line (the issue's
yardstick: 20 tokens 5 ms apart, the first after 20 ms, no reasoning before them): the benchmark
measures what Chimera adds to a model's time, so the model's time is fixed and short.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from chimera.dev.simulator import SimulatorDefaults, SimulatorState, create_simulator_app, state
from chimera.providers.catalogue import load_catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--token-delay", type=float, default=0.005)
    parser.add_argument("--first-token-delay", type=float, default=0.02)
    parser.add_argument("--models", type=Path, help="a catalogue whose limits the quota headers report")
    args = parser.parse_args()
    if args.models is not None:
        # The simulator reports each model's limits from the shipped catalogue (Groq's free plan):
        # the benchmark's plan is the one its app runs with.
        paid = load_catalogue(args.models)
        state.shipped_catalogue = lambda: paid
    defaults = SimulatorDefaults(
        tokens=args.tokens,
        token_delay_s=args.token_delay,
        first_token_delay_s=args.first_token_delay,
        reasoning_tokens=0,
    )
    app = create_simulator_app(SimulatorState(defaults=defaults))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
