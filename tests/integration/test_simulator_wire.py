"""The provider simulator speaks like the real providers: the real SDKs and raw HTTP against it.

These pin what the simulator promises other tests: the served and retired models, the providers'
own error bodies, model lists (Gemini's pages), answers shaped like a model's, reasoning deltas and
awkward characters, with usage that matches what was streamed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import groq
import httpx
import pytest
from chimera.dev.simulator import (
    ProviderSimulator,
    Scenario,
    simulated_answer,
    simulated_reasoning,
    simulated_tokens,
    split_into_pieces,
)
from chimera.providers.catalogue import load_catalogue
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

CATALOGUE = load_catalogue()
GROQ_MODEL = next(m.provider_model for m in CATALOGUE.models if m.provider == "groq")
GEMINI_MODEL = next(m.provider_model for m in CATALOGUE.models if m.provider == "gemini")


@pytest.fixture
def groq_client(simulator: ProviderSimulator) -> Iterator[groq.Groq]:
    with groq.Groq(api_key="test-key", base_url=simulator.groq_base_url, max_retries=0) as client:
        yield client


@pytest.fixture
def gemini_client(simulator: ProviderSimulator) -> genai.Client:
    return genai.Client(api_key="test-key", http_options=genai_types.HttpOptions(base_url=simulator.gemini_base_url))


@pytest.fixture
def raw(simulator: ProviderSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.base_url, timeout=10) as client:
        yield client


def groq_chat(client: groq.Groq, prompt: str, model: str = GROQ_MODEL, **extra: Any) -> list[Any]:
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], stream=True, **extra
    )
    return list(stream)


def groq_error(raw: httpx.Client, model: str = GROQ_MODEL) -> httpx.Response:
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    return raw.post("/openai/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"})


def gemini_post(raw: httpx.Client, model: str = GEMINI_MODEL, version: str = "v1beta", **body: Any) -> httpx.Response:
    payload = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], **body}
    url = f"/{version}/models/{model}:streamGenerateContent?alt=sse"
    return raw.post(url, json=payload, headers={"x-goog-api-key": "k"})


def sse_payloads(response: httpx.Response) -> list[Any]:
    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    return [json.loads(e) for e in events if e != "[DONE]"]


# --- Models: served, retired, unknown ------------------------------------------------------------


def test_the_simulator_serves_the_shipped_catalogue_and_refuses_retired_models(
    simulator: ProviderSimulator,
) -> None:
    state = simulator.state
    for spec in CATALOGUE.models:
        assert state.model_status(spec.provider, spec.provider_model) == "served"
    assert set(state.served_models("gemini")) == {m.provider_model for m in CATALOGUE.models if m.provider == "gemini"}
    assert state.model_status("groq", "llama-3.3-70b-versatile") == "retired"
    assert state.model_status("gemini", "gemini-2.5-flash") == "retired"

    state.retire("groq", GROQ_MODEL)
    assert state.model_status("groq", GROQ_MODEL) == "retired"
    state.reset()
    assert state.model_status("groq", GROQ_MODEL) == "served"


def test_groq_refuses_a_retired_model_with_400_model_decommissioned(groq_client: groq.Groq) -> None:
    with pytest.raises(groq.BadRequestError) as caught:
        groq_chat(groq_client, "hi", model="llama-3.3-70b-versatile")

    assert caught.value.status_code == 400
    assert caught.value.body == {
        "error": {
            "message": "The model `llama-3.3-70b-versatile` has been decommissioned and is no longer supported. "
            "Please refer to https://console.groq.com/docs/deprecations for a recommendation on which model "
            "to use instead.",
            "type": "invalid_request_error",
            "code": "model_decommissioned",
        }
    }


def test_groq_refuses_an_unknown_model_with_404_and_keeps_the_scenario_queued(
    groq_client: groq.Groq, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(tokens=3))
    with pytest.raises(groq.NotFoundError) as caught:
        groq_chat(groq_client, "hi", model="llama3-70b-8192")

    assert caught.value.body == {
        "error": {
            "message": "The model `llama3-70b-8192` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }
    chunks = groq_chat(groq_client, "hi")  # the scripted scenario is still there for a served model
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == simulated_answer("hi", 3)
    assert [r.model for r in simulator.state.requests_to("groq")] == ["llama3-70b-8192", GROQ_MODEL]


def test_a_model_retired_during_a_test_is_refused_until_reset(
    groq_client: groq.Groq, gemini_client: genai.Client, simulator: ProviderSimulator
) -> None:
    simulator.state.retire("groq", GROQ_MODEL)
    simulator.state.retire("gemini", GEMINI_MODEL)

    with pytest.raises(groq.BadRequestError, match="decommissioned"):
        groq_chat(groq_client, "hi")
    with pytest.raises(genai_errors.ClientError) as caught:
        list(gemini_client.models.generate_content_stream(model=GEMINI_MODEL, contents="hi"))

    # google-genai 3.x calls /v1/: the message names the version of the path it used.
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"
    assert caught.value.message == (
        f"models/{GEMINI_MODEL} is not found for API version v1, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods."
    )


def test_gemini_404_names_the_api_version_of_the_path(raw: httpx.Client) -> None:
    response = gemini_post(raw, model="gemini-2.0-flash", version="v1beta")

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": 404,
            "message": "models/gemini-2.0-flash is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their supported methods.",
            "status": "NOT_FOUND",
        }
    }


def test_models_can_be_retired_from_another_process(raw: httpx.Client, simulator: ProviderSimulator) -> None:
    response = raw.post("/_simulator/models", json={"provider": "groq", "retire": [GROQ_MODEL]})

    assert GROQ_MODEL in response.json()["groq"]["retired"]
    assert groq_error(raw).json()["error"]["code"] == "model_decommissioned"


# --- Model lists ---------------------------------------------------------------------------------


def test_groq_lists_the_served_models(groq_client: groq.Groq, raw: httpx.Client, simulator: ProviderSimulator) -> None:
    models = groq_client.models.list()

    ids = [m.id for m in models.data]
    assert ids == simulator.state.served_models("groq")
    assert "llama-3.3-70b-versatile" not in ids
    entry = next(m for m in models.data if m.id == GROQ_MODEL).model_dump()
    assert entry["object"] == "model" and entry["owned_by"] == "OpenAI" and entry["active"] is True
    assert entry["context_window"] == 131072 and entry["public_apps"] is None and entry["max_completion_tokens"] > 0
    assert raw.get("/openai/v1/models").status_code == 401


def test_gemini_model_list_pages_and_the_sdk_follows_the_pages(
    gemini_client: genai.Client, simulator: ProviderSimulator
) -> None:
    names = [m.name for m in gemini_client.models.list()]

    assert names == ["models/gemini-embedding-001", f"models/{GEMINI_MODEL}"]
    listings = [seen.path for seen in simulator.state.listings]
    assert len(listings) == 2 and listings[0] == "/v1/models" and "pageToken=" in listings[1]
    chat_model = gemini_client.models.list(config={"page_size": 5}).page[-1]
    assert chat_model.supported_actions is not None and "generateContent" in chat_model.supported_actions
    assert chat_model.input_token_limit == CATALOGUE.spec("gemini-flash").context_tokens


def test_gemini_async_pager_reads_every_page(gemini_client: genai.Client) -> None:
    async def names() -> list[str | None]:
        return [m.name async for m in await gemini_client.aio.models.list(config={"page_size": 1})]

    assert asyncio.run(names()) == ["models/gemini-embedding-001", f"models/{GEMINI_MODEL}"]


def test_gemini_model_list_needs_a_key_and_a_valid_page_token(raw: httpx.Client) -> None:
    assert raw.get("/v1beta/models").json()["error"]["status"] == "PERMISSION_DENIED"
    page = raw.get("/v1beta/models", params={"pageSize": 50}, headers={"x-goog-api-key": "k"}).json()
    assert "nextPageToken" not in page and len(page["models"]) == 2
    bad = raw.get("/v1beta/models", params={"pageToken": "nonsense"}, headers={"x-goog-api-key": "k"})
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"


# --- Rate limits and server errors ---------------------------------------------------------------


def test_groq_429_on_tokens_per_minute_reads_like_groqs(raw: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(status=429))

    response = groq_error(raw)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"  # 2.25 s, rounded up to whole seconds
    assert response.headers["x-ratelimit-remaining-tokens"] == "0"
    assert response.headers["x-ratelimit-limit-tokens"] == "8000"
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("tokens", "rate_limit_exceeded")
    assert error["message"].startswith(f"Rate limit reached for model `{GROQ_MODEL}` in organization `org_")
    assert "service tier `on_demand` on tokens per minute (TPM): Limit 8000, Used " in error["message"]
    assert "Please try again in 2.25s. Need more tokens? Upgrade to Dev Tier today at" in error["message"]


def test_groq_429_on_requests_per_day(raw: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(status=429, rate_limit="rpd", retry_after_s=86.4))

    response = groq_error(raw)

    error = response.json()["error"]
    assert error["type"] == "requests"
    assert (
        "on requests per day (RPD): Limit 1000, Used 1000, Requested 1. Please try again in 1m26.4s."
        in (error["message"])
    )
    assert response.headers["retry-after"] == "87"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"


@pytest.mark.parametrize("retry_info", [True, False])
def test_gemini_429_carries_a_quota_failure_and_maybe_retry_info(
    raw: httpx.Client, simulator: ProviderSimulator, retry_info: bool
) -> None:
    simulator.state.script("gemini", Scenario(status=429, rate_limit="rpd", retry_after_s=33.4, retry_info=retry_info))

    error = gemini_post(raw).json()["error"]

    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["message"].startswith("You exceeded your current quota, please check your plan and billing details.")
    assert error["message"].endswith("Please retry in 33.4s.")
    kinds = [d["@type"].rsplit(".", 1)[-1] for d in error["details"]]
    assert kinds == ["Help", "QuotaFailure", "RetryInfo"] if retry_info else ["Help", "QuotaFailure"]
    violation = error["details"][1]["violations"][0]
    assert violation["quotaId"] == "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    assert violation["quotaDimensions"] == {"location": "global", "model": GEMINI_MODEL}
    if retry_info:
        assert error["details"][2]["retryDelay"] == "33s"


def test_server_errors_use_each_providers_body(raw: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(status=500))
    simulator.state.script("gemini", Scenario(status=503))

    assert groq_error(raw).json() == {"error": {"message": "Internal Server Error", "type": "internal_server_error"}}
    assert gemini_post(raw).json() == {
        "error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}
    }


# --- Answers that look like a model's ------------------------------------------------------------


def test_the_default_answer_is_still_the_short_deterministic_words() -> None:
    assert simulated_answer("What is streaming?") == (
        "Every test knows exactly what to expect next streaming tokens arrive one by one while the "
        "simulator pretends to think about your question and"
    )


def test_a_markdown_answer_streams_through_the_groq_sdk_with_matching_usage(
    groq_client: groq.Groq, simulator: ProviderSimulator
) -> None:
    prompt = "Explain streaming with markdown"
    simulator.state.script(
        "groq", Scenario(shape="markdown", token_delay_s=0, first_token_delay_s=0, reasoning_tokens=0)
    )

    chunks = groq_chat(groq_client, prompt)

    pieces = [c.choices[0].delta.content for c in chunks[1:-1]]
    text = "".join(p or "" for p in pieces)
    assert text == simulated_answer(prompt, shape="markdown")
    for needle in ("# ", "1. ", "- ", "```python\n", "| --- |", "**", "*", "](https://", "naïve café — 東京 ✓ 🚀"):
        assert needle in text
    assert any(p and p.strip() and p.strip() not in text.split() for p in pieces), "no piece splits a word"
    usage = chunks[-1].x_groq.usage
    assert usage.completion_tokens == len(pieces) == len(simulated_tokens(prompt, shape="markdown"))
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_long_answer_is_over_two_thousand_tokens_of_markdown() -> None:
    pieces = simulated_tokens("long please", shape="long")

    assert len(pieces) > 2000
    assert "".join(pieces).count("```") >= 20
    assert all(1 <= len(p) for p in pieces)


def test_a_scripted_answer_streams_exactly_in_token_sized_pieces(
    gemini_client: genai.Client, simulator: ProviderSimulator
) -> None:
    text = "Voilà: `x = 1` 👩‍💻 and 🚀 — done.\n\n```sh\necho hi\n```"
    simulator.state.script("gemini", Scenario(answer=text, token_delay_s=0))

    chunks = list(gemini_client.models.generate_content_stream(model=GEMINI_MODEL, contents="anything"))

    assert "".join(c.text or "" for c in chunks) == text
    assert [c.text for c in chunks] == split_into_pieces(text)
    assert all(len(p) <= 8 for p in split_into_pieces(text))
    last = chunks[-1].usage_metadata
    assert last is not None and last.candidates_token_count == len(chunks)


def test_awkward_characters_arrive_as_the_providers_would_send_them(
    raw: httpx.Client, simulator: ProviderSimulator
) -> None:
    oddities: list[Any] = ["bom", "nul", "lone_surrogate", "crlf"]
    simulator.state.script("groq", Scenario(shape="markdown", oddities=oddities, token_delay_s=0))

    response = groq_error(raw)  # a successful stream, read raw

    assert b"\\ud800" in response.content  # a JSON escape: the bytes themselves stay valid UTF-8
    assert "東京".encode() in response.content  # non-ASCII is sent raw, as the providers do
    deltas = [p["choices"][0]["delta"].get("content") for p in sse_payloads(response)]
    text = "".join(d or "" for d in deltas)
    assert text == simulated_answer("hi", shape="markdown", oddities=oddities)
    assert text.startswith("\ufeff") and "\x00" in text and "\r\n" in text and "\ud800" in text
    with pytest.raises(UnicodeEncodeError):
        text.encode()


# --- Reasoning ------------------------------------------------------------------------------------


def test_groq_streams_reasoning_deltas_before_the_answer(groq_client: groq.Groq, simulator: ProviderSimulator) -> None:
    prompt = "Think first"
    simulator.state.script("groq", Scenario(reasoning_tokens=5, tokens=4, token_delay_s=0))

    chunks = groq_chat(groq_client, prompt)

    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = [d.reasoning for d in deltas if d.reasoning]
    assert reasoning == simulated_reasoning(prompt, 5)
    first_content = next(i for i, d in enumerate(deltas) if d.content)
    assert all(not d.reasoning for d in deltas[first_content:])
    assert "".join(d.content or "" for d in deltas) == simulated_answer(prompt, 4)
    assert chunks[-1].x_groq.usage.completion_tokens == 9  # reasoning is billed as output


def test_groq_leaves_reasoning_out_when_asked(groq_client: groq.Groq, simulator: ProviderSimulator) -> None:
    simulator.state.script("groq", Scenario(reasoning_tokens=5, tokens=4, token_delay_s=0))

    chunks = groq_chat(groq_client, "Think quietly", include_reasoning=False)

    assert not any(c.choices[0].delta.reasoning for c in chunks if c.choices)
    assert chunks[-1].x_groq.usage.completion_tokens == 9


def test_gemini_sends_thoughts_only_when_asked(raw: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.script("gemini", Scenario(reasoning_tokens=3, tokens=2), Scenario(reasoning_tokens=3, tokens=2))

    quiet = sse_payloads(gemini_post(raw))
    shown = sse_payloads(gemini_post(raw, generationConfig={"thinkingConfig": {"includeThoughts": True}}))

    assert len(quiet) == 2 and quiet[-1]["usageMetadata"]["thoughtsTokenCount"] == 3
    thoughts = [p["candidates"][0]["content"]["parts"][0] for p in shown[:3]]
    assert all(part.get("thought") is True for part in thoughts)
    assert shown[-1]["usageMetadata"]["candidatesTokenCount"] == 2
