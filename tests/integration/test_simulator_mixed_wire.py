"""`chimera dev`'s simulator answers in the "mixed" shape through the real SDKs, by prompt."""

from __future__ import annotations

from collections.abc import Iterator

import groq
import pytest
from chimera.dev.simulator import ProviderSimulator, SimulatorDefaults, simulated_answer, simulated_tokens
from chimera.providers.catalogue import load_catalogue
from google import genai

CATALOGUE = load_catalogue()
GROQ_MODEL = next(m.provider_model for m in CATALOGUE.models if m.provider == "groq")
GEMINI_MODEL = next(m.provider_model for m in CATALOGUE.models if m.provider == "gemini")


@pytest.fixture(scope="module")
def mixed_simulator() -> Iterator[ProviderSimulator]:
    """A simulator started as `chimera dev` starts it: mixed answers, at full speed for the test."""
    defaults = SimulatorDefaults(shape="mixed", first_token_delay_s=0, token_delay_s=0, reasoning_tokens=0)
    sim = ProviderSimulator(defaults=defaults).start()
    yield sim
    sim.stop()


@pytest.mark.parametrize(
    "prompt", ["hi", "How do I rebase a git branch?", "Explain Postgres indexes in detail"], ids=str.split
)
def test_groq_sdk_streams_the_mixed_answer_with_matching_usage(mixed_simulator: ProviderSimulator, prompt: str) -> None:
    with groq.Groq(api_key="k", base_url=mixed_simulator.groq_base_url, max_retries=0) as client:
        chunks = list(
            client.chat.completions.create(
                model=GROQ_MODEL, messages=[{"role": "user", "content": prompt}], stream=True
            )
        )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == simulated_answer(prompt, shape="mixed")
    assert chunks[-1].x_groq.usage.completion_tokens == len(simulated_tokens(prompt, shape="mixed"))


def test_gemini_sdk_gets_the_same_answer_to_the_same_question(mixed_simulator: ProviderSimulator) -> None:
    prompt = "What is the difference between merge and rebase?"
    client = genai.Client(
        api_key="k", http_options={"base_url": mixed_simulator.gemini_base_url, "retry_options": {"attempts": 1}}
    )

    text = "".join(c.text or "" for c in client.models.generate_content_stream(model=GEMINI_MODEL, contents=prompt))

    assert text == simulated_answer(prompt, shape="mixed")
    assert "| --- |" in text and "### When to choose merge" in text
