"""The first fallback to Gemini in a fresh process: google-genai's import is not the model being slow.

google-genai takes about 1.6 s to import here, and longer on a busy machine; it is imported the
first time Gemini is needed, which is usually a fallback. That import must not count against the
first-token deadline. To make the test independent of how fast this machine is, the import is
made slower than the deadline on purpose (a finder that waits before the real one runs), in a
fresh interpreter, against the simulator, through the real SDKs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 3.0  # room for the rest of a first call (aiohttp session, lazy imports) on a busy machine
IMPORT_S = 2 * DEADLINE_S

PROBE = f"""
import asyncio, sys, time

class SlowDisk:  # google.genai takes {IMPORT_S} s to import, whatever this machine's speed
    def find_spec(self, name, path=None, target=None):
        if name == "google.genai":
            time.sleep({IMPORT_S})
        return None

sys.meta_path.insert(0, SlowDisk())
from chimera.providers.base import PromptMessage, TextDelta
from chimera.providers.catalogue import load_catalogue
from chimera.providers.router import ModelStarted, Router
from chimera.runtime import build_providers
from chimera.settings import ChatSettings
from chimera.store.memory import MemoryBudgetStore, MemoryHealthStore

settings = ChatSettings(
    _env_file=None, groq_api_key="k", google_generative_ai_api_key="k", groq_base_url=sys.argv[1],
    google_gemini_base_url=sys.argv[1], first_token_timeout_s={DEADLINE_S}, provider_attempts=1,
)

async def main():
    assert "google.genai" not in sys.modules
    router = Router(providers=build_providers(settings), health=MemoryHealthStore(), budgets=MemoryBudgetStore(),
                    settings=settings,
                    catalogue=load_catalogue())
    text, provider = [], None
    async for event in router.stream(choice="auto", messages=[PromptMessage("user", "hi")]):
        if isinstance(event, ModelStarted):
            provider = event.model.provider
        elif isinstance(event, TextDelta):
            text.append(event.text)
    print(provider)
    print("".join(text))

asyncio.run(main())
"""


def test_the_first_fallback_in_a_fresh_process_waits_for_the_import_outside_the_deadline(
    simulator: ProviderSimulator,
) -> None:
    simulator.state.script("groq", *[Scenario(status=429, retry_after_s=30)] * 2)  # both Groq models
    simulator.state.script("gemini", Scenario(first_token_delay_s=0, reasoning_tokens=0))

    result = subprocess.run(
        [sys.executable, "-c", PROBE, simulator.base_url],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    provider, answer = result.stdout.splitlines()[-2:]
    assert (provider, answer) == ("gemini", simulated_answer("hi"))
