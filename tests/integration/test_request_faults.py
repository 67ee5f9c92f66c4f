"""A request that is too large is the request's fault: another model may take it, and nobody else pays.

On Groq's free plan a model takes at most 8,000 tokens a minute, so a long enough message is refused
with 413 whatever the load (the simulator does exactly that, from the catalogue's free tier), and a
conversation over a context window gets 400. Neither says anything about the provider's health.
"""

from __future__ import annotations

import httpx
import psycopg
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer

from tests.conftest import bearer
from tests.support.sse import iter_events, of_type, streamed_text

LONG = "a " * 8_000  # 16,000 characters, about 8,000 tokens: over gpt-oss's 8K tokens a minute
OTHER = "00000000-0000-4000-8000-0000000000b2"


def chat(client: httpx.Client, message: str, **extra: object) -> list[dict[str, object]]:
    with client.stream("POST", "/api/chat", json={"message": message, **extra}) as response:
        assert response.status_code == 200
        return [r.event for r in iter_events(response)]


def test_a_message_over_groqs_free_tier_is_answered_by_gemini(
    client: httpx.Client, simulator: ProviderSimulator
) -> None:
    events = chat(client, LONG)

    started = of_type(events, "data-model")[0]["data"]
    assert started["provider"] == "gemini"
    assert started["fallbackReason"] == "Groq large cannot take a conversation this long"
    assert streamed_text(events) == simulated_answer(LONG)
    # Groq's small model has the same 8K limit: it is not asked in vain.
    assert [r.model for r in simulator.state.requests_to("groq")] == ["openai/gpt-oss-120b"]


def test_too_long_for_every_model_says_start_a_new_chat(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("gemini", Scenario(status=400))  # over Gemini's 1M-token window too

    events = chat(client, LONG)

    (error,) = of_type(events, "error")
    assert error["errorText"] == (
        "This conversation is too long for Groq large and Gemini Flash. "
        "Please start a new chat, or send a shorter message."
    )
    assert not of_type(events, "data-retry")  # waiting would not help
    assert db.execute("select role from messages").fetchall() == [("user",)]  # the message is kept


def test_one_persons_rejected_requests_leave_the_models_to_everybody_else(
    client: httpx.Client, live_server: str, simulator: ProviderSimulator
) -> None:
    for _ in range(3):  # three requests Groq refuses as too large
        simulator.state.script("gemini", Scenario(status=400))
        chat(client, LONG)
    simulator.state.script("groq", *[Scenario(status=400)] * 3)  # and three over the context window
    for _ in range(3):
        chat(client, "a question whose conversation is too long", model="groq-llama-8b")

    with httpx.Client(base_url=live_server, headers=bearer(OTHER), timeout=30) as other:
        events = chat(other, "hello")
        models = {m["id"]: m for m in other.get("/api/models").json()["models"]}

    started = of_type(events, "data-model")[0]["data"]
    assert (started["provider"], started["fallbackReason"]) == ("groq", None)
    assert all(m["status"] == "ok" for m in models.values())
