"""The model picker: filled from GET /api/models, marking models that cannot answer, and working
without the list. The simulator retires a model the way Groq refuses a shut-down one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chimera.dev.simulator import ProviderSimulator
from playwright.sync_api import Locator, Page, Request, Route, expect

from tests.e2e.helpers import ANSWER_TIMEOUT_MS, RECORD_STATUS, answers, prompt, send, wait_until_held

pytestmark = pytest.mark.e2e

MODELS_ROUTE = "**/api/models"
LABELS = ["Auto", "Groq large", "Groq fast", "Gemini Flash"]
GROQ_FAST = "openai/gpt-oss-20b"  # what "Groq fast" (groq-llama-8b) asks Groq for
FALLBACK = "Groq fast is no longer offered by its provider"


def picker(page: Page) -> Locator:
    return page.get_by_role("combobox", name="Model")


def options(page: Page) -> Locator:
    return picker(page).locator("option")


def groq_fast(page: Page) -> Locator:
    return picker(page).locator('option[value="groq-llama-8b"]')


def count_model_requests(page: Page) -> list[Request]:
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request) if request.url.endswith("/api/models") else None)
    return seen


def test_picker_offers_the_servers_models_in_order_with_auto_chosen(
    page: Page, chat_bodies: list[dict[str, Any]]
) -> None:
    listed = page.request.get("/api/models").json()

    # The person sees the four choices by their labels, in the server's order, with Auto chosen
    expect(options(page)).to_have_text(LABELS)
    expect(picker(page)).to_have_value("auto")
    assert [model["id"] for model in listed["models"]] == ["auto", "groq-llama-70b", "groq-llama-8b", "gemini-flash"]
    for index, model in enumerate(listed["models"]):
        expect(options(page).nth(index)).to_have_attribute("title", model["description"])
        expect(options(page).nth(index)).to_be_enabled()
    expect(picker(page).get_by_role("option", name="Groq large", exact=True)).to_be_attached()

    # Choosing one by its label sends its id
    picker(page).select_option(label="Gemini Flash")
    send(page, "Hello there")
    expect(answers(page).locator(".message__meta")).to_contain_text("Gemini Flash", timeout=ANSWER_TIMEOUT_MS)
    assert chat_bodies[-1]["model"] == "gemini-flash"

    # The choice is remembered for the next visit
    page.reload()
    expect(picker(page)).to_have_value("gemini-flash")


def test_retired_model_falls_back_under_its_label_and_is_marked_after_a_reload(
    page: Page, simulator: ProviderSimulator, chat_bodies: list[dict[str, Any]]
) -> None:
    expect(options(page)).to_have_text(LABELS)
    page.evaluate(RECORD_STATUS)

    # Given Groq has shut down the model behind "Groq fast"
    simulator.state.retire("groq", GROQ_FAST)

    # When the person asks something short, which Auto sends to Groq fast
    send(page, "Hi")

    # Then the answer arrives from another model, and the page says why, by label
    meta = answers(page).locator(".message__meta")
    expect(meta).to_contain_text(f"fallback: {FALLBACK}", timeout=ANSWER_TIMEOUT_MS)
    expect(answers(page).locator(".message__text")).not_to_be_empty()
    assert chat_bodies[-1]["model"] == "auto"
    statuses: list[str] = page.evaluate("window.statusTexts")
    assert f"Answering with Groq large: {FALLBACK}." in statuses, statuses

    # And once the list is fetched again, Groq fast is marked retired and cannot be chosen
    page.reload()
    expect(options(page)).to_have_text(["Auto", "Groq large", "Groq fast (retired)", "Gemini Flash"])
    expect(groq_fast(page)).to_be_disabled()
    expect(groq_fast(page)).to_have_attribute(
        "title",
        "Groq's small model: the quickest answers for short, plain questions. Its provider no longer offers it.",
    )
    expect(picker(page)).to_have_value("auto")


def test_a_fallback_refreshes_the_list_within_30_seconds_and_keeps_the_current_choice(
    page: Page, simulator: ProviderSimulator, chat_bodies: list[dict[str, Any]]
) -> None:
    page.clock.install()  # a fake clock, so the test need not wait out the 30 seconds
    requests = count_model_requests(page)
    page.reload()
    expect(options(page)).to_have_text(LABELS)
    assert len(requests) == 1

    # Given the person chose Groq fast, and Groq then retired it
    picker(page).select_option(label="Groq fast")
    simulator.state.retire("groq", GROQ_FAST)

    # When they send a message: it is answered by another model
    send(page, "Hi")
    expect(answers(page).locator(".message__meta")).to_contain_text(FALLBACK, timeout=ANSWER_TIMEOUT_MS)
    assert chat_bodies[-1]["model"] == "groq-llama-8b"

    # Then the list is fetched again once 30 seconds have passed since the last time, not before
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(groq_fast(page)).to_have_text("Groq fast")
    assert len(requests) == 1
    with page.expect_request(MODELS_ROUTE):
        page.clock.fast_forward("00:31")
    expect(groq_fast(page)).to_have_text("Groq fast (retired)")

    # And the retired model stays chosen, and choosable, until the person picks another
    expect(picker(page)).to_have_value("groq-llama-8b")
    expect(groq_fast(page)).to_be_enabled()
    picker(page).select_option(label="Auto")
    expect(groq_fast(page)).to_be_disabled()

    # Regaining focus 30 seconds later fetches the list again, once
    page.clock.fast_forward("00:31")
    with page.expect_request(MODELS_ROUTE):
        page.evaluate("window.dispatchEvent(new Event('focus'))")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(groq_fast(page)).to_have_text("Groq fast (retired)")
    assert len(requests) == 3


def test_without_the_model_list_the_page_offers_auto_and_still_sends(
    page: Page, chat_bodies: list[dict[str, Any]]
) -> None:
    held: list[Route] = []
    page.route(MODELS_ROUTE, lambda route: held.append(route))
    page.reload()
    wait_until_held(page, held)

    # While the list is on its way the person types; then the server fails to give it
    prompt(page).fill("Are you still there?")
    held[0].fulfill(
        status=500,
        content_type="application/problem+json",
        body=json.dumps({"title": "Internal Server Error", "status": 500}),
    )

    # The picker still offers Auto, chosen, and nothing typed was lost
    expect(options(page)).to_have_text(["Auto"])
    expect(picker(page)).to_have_value("auto")
    expect(prompt(page)).to_have_value("Are you still there?")
    expect(page.get_by_role("alert")).to_be_hidden()

    # And the message goes out with "auto" and is answered
    prompt(page).press("Enter")
    expect(answers(page).locator(".message__meta")).to_contain_text("simulated", timeout=ANSWER_TIMEOUT_MS)
    assert chat_bodies[-1]["model"] == "auto"
