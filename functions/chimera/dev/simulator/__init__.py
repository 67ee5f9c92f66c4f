"""A loopback server that speaks the Groq and Gemini wire protocols, as harshly as they do.

The real SDKs reach it through ``GROQ_BASE_URL`` / ``GOOGLE_GEMINI_BASE_URL``, so everything from
the SDK's HTTP client to our SSE encoder runs for real. It serves the model ids of the shipped
catalogue and refuses retired and unknown ones with the providers' own error bodies; it lists
models (Gemini's list pages); it streams answers that look like a model's (markdown, code fences,
non-ASCII, reasoning deltas, awkward characters). Scenarios, queued per provider and used one per
request, inject what real providers do: 429 with the real quota bodies, 5xx, slow or stalled
tokens, dropped connections, malformed chunks. Answers are deterministic: ``simulated_answer``
tells a test exactly what text to expect.

Modules: ``state`` (scenarios, defaults, models), ``answers`` (what is said and how it is cut into
tokens), ``streaming`` (pacing, faults, SSE), ``groq`` and ``gemini`` (one per protocol),
``server`` (the app and its thread).
"""

from chimera.dev.simulator.answers import (
    prompt_token_count,
    simulated_answer,
    simulated_reasoning,
    simulated_tokens,
    split_into_pieces,
)
from chimera.dev.simulator.server import ProviderSimulator, create_simulator_app
from chimera.dev.simulator.state import (
    Scenario,
    SeenListing,
    SeenRequest,
    SimProvider,
    SimulatorDefaults,
    SimulatorState,
)

__all__ = [
    "ProviderSimulator",
    "Scenario",
    "SeenListing",
    "SeenRequest",
    "SimProvider",
    "SimulatorDefaults",
    "SimulatorState",
    "create_simulator_app",
    "prompt_token_count",
    "simulated_answer",
    "simulated_reasoning",
    "simulated_tokens",
    "split_into_pieces",
]
