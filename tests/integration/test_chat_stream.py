"""POST /api/chat end to end: real HTTP, the real SDKs against the simulator, a real Postgres."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Literal

import httpx
import psycopg
import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, SimulatorDefaults, simulated_answer
from chimera.dev.simulator.state import Shape
from chimera.providers.catalogue import load_catalogue

from tests.support.sse import iter_events, of_type, streamed_text


def chat(client: httpx.Client, **body: Any) -> tuple[httpx.Response, list[dict[str, Any]]]:
    with client.stream("POST", "/api/chat", json=body) as response:
        if response.status_code != 200:
            response.read()
            return response, []
        return response, [r.event for r in iter_events(response)]


def test_answer_streams_in_order_and_is_saved_with_usage(client: httpx.Client, db: psycopg.Connection) -> None:
    prompt = "What is streaming?"
    response, events = chat(client, message=prompt, model="groq-llama-70b")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    kinds = [e["type"] for e in events]
    assert kinds[:4] == ["start", "data-conversation", "data-model", "text-start"]
    assert kinds[-3:] == ["text-end", "data-usage", "finish"]
    assert streamed_text(events) == simulated_answer(prompt)
    model = of_type(events, "data-model")[0]["data"]
    assert model == {
        "model": "groq-llama-70b",
        "provider": "groq",
        "providerModel": "openai/gpt-oss-120b",
        "simulated": True,
        "fallbackReason": None,
        "continues": False,
    }

    conversation_id = of_type(events, "data-conversation")[0]["data"]["conversationId"]
    title = db.execute("select title from conversations where id = %s", (conversation_id,)).fetchone()
    assert title == (prompt,)
    rows = db.execute(
        "select role, content, metadata from messages where conversation_id = %s order by created_at",
        (conversation_id,),
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("user", prompt), ("assistant", simulated_answer(prompt))]
    metadata = rows[1][2]
    assert metadata["model"] == "groq-llama-70b" and metadata["provider"] == "groq"
    assert metadata["status"] == "complete"
    assert metadata["durationMs"] >= metadata["ttftMs"] > 0

    usage = db.execute(
        "select provider, model, input_tokens, output_tokens, tokens_used, cost_cents, estimated from ai_usage"
    ).fetchall()
    reported = of_type(events, "data-usage")[0]["data"]
    assert len(usage) == 1
    provider, model_key, input_tokens, output_tokens, tokens_used, cost, estimated = usage[0]
    assert (provider, model_key, estimated) == ("groq", "groq-llama-70b", False)
    # Billed output is the answer and the reasoning before it (gpt-oss reasons first, as on Groq).
    assert output_tokens == 24 + SimulatorDefaults.reasoning_tokens == reported["outputTokens"]
    assert input_tokens == reported["inputTokens"] > 0
    assert tokens_used == input_tokens + output_tokens == metadata["tokens"]
    assert cost == load_catalogue().spec("groq-llama-70b").cost_cents(
        input_tokens=input_tokens, output_tokens=output_tokens
    )
    assert cost > Decimal(0)
    # The saved facts and the streamed ones are the same, under the same names.
    assert reported == metadata


def test_a_conversation_continues_with_its_history(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    _, first = chat(client, message="First question")
    conversation_id = of_type(first, "data-conversation")[0]["data"]["conversationId"]

    response, second = chat(client, message="Second question", conversationId=conversation_id)

    assert response.status_code == 200
    question_id = db.execute("select id from messages where content = 'Second question'").fetchone()[0]
    assert of_type(second, "data-conversation")[0]["data"] == {
        "conversationId": conversation_id,
        "title": "First question",
        "questionId": question_id,
    }
    count = db.execute("select count(*) from messages where conversation_id = %s", (conversation_id,)).fetchone()
    assert count == (4,)
    assert db.execute("select count(*) from conversations").fetchone() == (1,)
    # The provider was sent the earlier turns: its reported prompt grew.
    usage = db.execute("select input_tokens from ai_usage order by created_at").fetchall()
    assert usage[1][0] > usage[0][0]


def test_unknown_conversation_is_404_and_nothing_is_written(client: httpx.Client, db: psycopg.Connection) -> None:
    response, _ = chat(client, message="hello", conversationId="does-not-exist")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "conversation" in response.json()["detail"]
    assert db.execute("select count(*) from messages").fetchone() == (0,)


def test_a_rate_limited_groq_model_hands_over_to_its_sibling_which_has_its_own_limits(
    client: httpx.Client, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(status=429, retry_after_s=30))

    _, events = chat(client, message="Tell me something")

    model = of_type(events, "data-model")[0]["data"]
    assert (model["model"], model["fallbackReason"]) == ("groq-llama-70b", "Groq fast is at its rate limit")
    assert [r.model for r in simulator.state.requests_to("groq")] == ["openai/gpt-oss-20b", "openai/gpt-oss-120b"]
    assert simulator.state.requests_to("gemini") == []


def test_groq_rate_limits_before_first_token_fall_back_to_gemini(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(status=429, retry_after_s=30), Scenario(status=429, retry_after_s=30))
    prompt = "Tell me something"

    _, events = chat(client, message=prompt)

    model = of_type(events, "data-model")[0]["data"]
    assert model["provider"] == "gemini" and model["model"] == "gemini-flash"
    assert model["fallbackReason"] == "Groq large is at its rate limit"
    assert streamed_text(events) == simulated_answer(prompt)
    assert of_type(events, "finish")
    assert db.execute("select provider, estimated from ai_usage").fetchall() == [("gemini", False)]
    assert len(simulator.state.requests_to("groq")) == 2  # one to each model; a long retry-after is not waited for


def test_groq_server_error_is_retried_then_falls_back(client: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(status=500), Scenario(status=500))

    _, events = chat(client, message="hi", model="groq-llama-8b")

    assert len(simulator.state.requests_to("groq")) == 2  # one retry with backoff, then fallback
    assert of_type(events, "data-model")[0]["data"]["provider"] == "gemini"
    assert of_type(events, "finish")


def test_a_transient_error_is_retried_on_the_same_provider(client: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(status=503))

    _, events = chat(client, message="hi")

    assert of_type(events, "data-model")[0]["data"]["provider"] == "groq"
    assert len(simulator.state.requests_to("groq")) == 2
    assert simulator.state.requests_to("gemini") == []


def test_both_providers_down_gives_a_clear_error_and_keeps_the_message(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(status=503), Scenario(status=503))
    simulator.state.script("gemini", Scenario(status=503), Scenario(status=503))

    response, events = chat(client, message="Is anyone there?")

    assert response.status_code == 200  # the stream had started; the error travels in it
    errors = of_type(events, "error")
    assert len(errors) == 1
    assert errors[0]["errorText"].startswith(
        "No AI model could answer (Groq fast is unavailable; Gemini Flash is unavailable)"
    )
    assert not of_type(events, "finish")
    assert db.execute("select role, content from messages").fetchall() == [("user", "Is anyone there?")]
    assert db.execute("select count(*) from ai_usage").fetchone() == (0,)


def test_both_rate_limited_says_when_to_try_again(client: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(status=429, retry_after_s=20), Scenario(status=429, retry_after_s=25))
    simulator.state.script("gemini", Scenario(status=429, retry_after_s=40))

    _, events = chat(client, message="hello")
    text = of_type(events, "error")[0]["errorText"]
    assert text == "The AI providers are at their free-tier limits right now. Please try again in 20 seconds."
    assert of_type(events, "data-retry")[0]["data"] == {"afterSeconds": 20}

    # Every model now rests: the next request fails fast without calling any.
    _, again = chat(client, message="hello again")
    assert "free-tier limits" in of_type(again, "error")[0]["errorText"]
    assert len(simulator.state.requests_to("groq")) == 2
    assert len(simulator.state.requests_to("gemini")) == 1


def test_a_stalled_provider_times_out_and_falls_back(client: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(stall_after=0), Scenario(stall_after=0))

    _, events = chat(client, message="anyone?")

    model = of_type(events, "data-model")[0]["data"]
    assert model["provider"] == "gemini" and model["fallbackReason"] == "Groq fast did not answer in time"


# (chosen model, its provider, the model that continues, its provider, the first one's label)
DIRECTIONS = [
    ("groq-llama-70b", "groq", "gemini-flash", "gemini", "Groq large"),
    ("gemini-flash", "gemini", "groq-llama-70b", "groq", "Gemini Flash"),
]


@pytest.mark.parametrize("shape", ["words", "markdown"])
@pytest.mark.parametrize(("chosen", "first", "second", "other", "label"), DIRECTIONS)
def test_a_drop_mid_answer_is_continued_by_the_other_provider_as_one_answer(
    client: httpx.Client,
    db: psycopg.Connection,
    simulator: ProviderSimulator,
    shape: Shape,
    chosen: str,
    first: Literal["groq", "gemini"],
    second: str,
    other: Literal["groq", "gemini"],
    label: str,
) -> None:
    simulator.state.defaults.shape = shape
    simulator.state.script(first, Scenario(drop_after=5))
    prompt = "Explain fallbacks"

    _, events = chat(client, message=prompt, model=chosen)

    kinds = [e["type"] for e in events]
    assert kinds.count("text-start") == 1 and kinds.count("text-end") == 1, "one text part, continued"
    assert "error" not in kinds
    models = [e["data"] for e in of_type(events, "data-model")]
    assert [(m["provider"], m["continues"]) for m in models] == [(first, False), (other, True)]
    assert streamed_text(events) == simulated_answer(prompt, shape=shape), "the answer, once, nothing repeated"
    # The other provider was asked the same question, to continue the partial answer.
    assert simulator.state.requests_to(other)[-1].prompt == prompt
    saved = db.execute("select content, metadata from messages where role = 'assistant'").fetchall()
    assert [row[0] for row in saved] == [simulated_answer(prompt, shape=shape)]
    metadata = saved[0][1]
    assert metadata["provider"] == other and metadata["fallbackReason"] == f"{label} is unavailable"
    assert metadata["models"] == [chosen, second]
    # Both attempts are in the ledger: the first estimated (it broke before it reported), the second reported.
    ledger = db.execute("select model, output_tokens, estimated from ai_usage order by estimated desc").fetchall()
    assert ledger[0] == (chosen, 5, True)
    assert ledger[1][0] == second and ledger[1][2] is False


def test_a_malformed_chunk_is_treated_as_a_provider_failure(client: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(malformed_after=0), Scenario(malformed_after=0))

    _, events = chat(client, message="hello")

    assert len(simulator.state.requests_to("groq")) == 2
    assert of_type(events, "data-model")[0]["data"]["fallbackReason"] == "Groq fast sent a broken answer"
    assert of_type(events, "finish")


def test_each_token_is_forwarded_without_waiting_for_the_next(
    client: httpx.Client, simulator: ProviderSimulator
) -> None:
    # Ten tokens, 0.3 s apart: the whole answer takes about 2.7 s to produce.
    simulator.state.script("groq", Scenario(tokens=10, token_delay_s=0.3, first_token_delay_s=0, reasoning_tokens=0))
    sent = time.monotonic()
    with client.stream("POST", "/api/chat", json={"message": "slowly please"}) as response:
        deltas = [r.at for r in iter_events(response) if r.event["type"] == "text-delta"]

    assert len(deltas) == 10
    assert deltas[0] - sent < 1.0, "the first token waited for later ones"
    assert deltas[-1] - deltas[0] > 2.0
    gaps = [b - a for a, b in zip(deltas, deltas[1:], strict=False)]
    assert min(gaps) > 0.15, "tokens arrived in bursts: something buffers the stream"


def test_an_answer_outlives_a_client_that_disconnects(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(tokens=40, token_delay_s=0.05))
    prompt = "a long answer please"
    seen: list[str] = []
    with client.stream("POST", "/api/chat", json={"message": prompt}) as response:
        for received in iter_events(response):
            if received.event["type"] == "text-delta":
                seen.append(received.event["delta"])
            if len(seen) == 5:
                break  # the person closes the tab

    # While it is still being generated, the row says so and holds the text flushed so far.
    streaming = db.execute("select status from messages where role = 'assistant'").fetchone()
    assert streaming == ("streaming",)
    row = None
    deadline = time.monotonic() + 15
    while row is None and time.monotonic() < deadline:
        row = db.execute(
            "select content, metadata from messages where role = 'assistant' and status = 'complete'"
        ).fetchone()
        time.sleep(0.05)
    assert row is not None, "the answer did not complete without its client"
    content, metadata = row
    assert content == simulated_answer(prompt, 40) and content.startswith("".join(seen))
    assert metadata["status"] == "complete"
    usage = db.execute("select estimated, output_tokens from ai_usage").fetchone()
    assert usage is not None and usage[0] is False and usage[1] >= 40


def test_a_silent_wait_for_the_first_token_sends_keep_alive_comments(
    client: httpx.Client, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(first_token_delay_s=1.0, tokens=3))  # heartbeats every 0.4 s
    with client.stream("POST", "/api/chat", json={"message": "take your time"}) as response:
        lines = [line for line in response.iter_lines() if line]

    first_delta = next(i for i, line in enumerate(lines) if '"text-delta"' in line)
    assert lines[:first_delta].count(": keep-alive") >= 2
    assert ": keep-alive" not in lines[first_delta:]  # once text flows, no more


def test_a_spent_request_budget_rests_that_model_until_it_resets(
    client: httpx.Client, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(remaining_requests=0))  # "x-ratelimit-reset-requests: 6s"

    _, first = chat(client, message="the last one this minute")
    _, second = chat(client, message="and one more")

    assert of_type(first, "data-model")[0]["data"]["model"] == "groq-llama-8b"  # the answer itself is fine
    # Limits are per model: auto spreads the overflow over the models with budget left (Groq's large
    # one or Gemini, by what each has left) and says why not the small one, which is not asked again.
    second_model = of_type(second, "data-model")[0]["data"]
    assert second_model["model"] in ("groq-llama-70b", "gemini-flash")
    assert second_model["fallbackReason"] == "Groq fast is resting after errors or rate limits"
    asked_small = [r for r in simulator.state.requests_to("groq") if r.model == "openai/gpt-oss-20b"]
    assert len(asked_small) == 1


@pytest.mark.parametrize(("provider", "model"), [("groq", "groq-llama-70b"), ("gemini", "gemini-flash")])
def test_a_model_that_reasons_past_the_first_token_deadline_still_answers(
    client: httpx.Client, simulator: ProviderSimulator, provider: str, model: str
) -> None:
    # 2 s of reasoning before the first word, against a 1.5 s first-token deadline: the reasoning
    # deltas (Groq's `reasoning`, Gemini's thought parts) show the model is alive.
    simulator.state.script(provider, Scenario(reasoning_tokens=20, token_delay_s=0.1, tokens=5))  # type: ignore[arg-type]

    _, events = chat(client, message="think hard", model=model)

    started = of_type(events, "data-model")[0]["data"]
    assert (started["provider"], started["fallbackReason"]) == (provider, None)
    assert streamed_text(events) == simulated_answer("think hard", 5)  # no reasoning in the answer
    assert of_type(events, "finish")
