"""The chat page in a real browser, against the real app with the provider simulator behind it.

`live_server` (tests/conftest.py) yields the base URL of the app serving frontend/ and /api.
The simulator's answers are deterministic but these tests only assert behaviour a person sees.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    ANSWER_TIMEOUT_MS,
    CHAT_ROUTE,
    answers,
    button,
    hold_chat_requests,
    prompt,
    send,
    wait_until_held,
)
from tests.e2e.test_model_picker import RECORD_STATUS

pytestmark = pytest.mark.e2e

# Records the newest answer's text once per painted frame, so the test sees what was on screen.
RECORD_ANSWER_FRAMES = """
() => {
  window.answerFrames = [];
  const sample = () => {
    const answers = document.querySelectorAll(".message--assistant .message__text");
    if (answers.length) window.answerFrames.push(answers[answers.length - 1].textContent);
    requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
}
"""


def test_message_shows_at_once_and_the_answer_streams_in(page: Page) -> None:
    expect(page.get_by_text("Simulated providers")).to_be_visible()
    held = hold_chat_requests(page)
    page.evaluate(RECORD_ANSWER_FRAMES)

    # When the person presses Enter while the request has not even reached the server
    send(page, "How do streaming answers work?")

    # Then their message is already on the page and the page says it is waiting
    expect(page.locator(".message--user .message__text")).to_have_text("How do streaming answers work?")
    expect(page.locator(".message--user")).to_contain_text("You")
    expect(prompt(page)).to_have_value("")
    expect(page.get_by_role("status")).to_have_text("Thinking…")
    expect(button(page, "Send")).to_be_disabled()
    expect(button(page, "Stop")).to_be_enabled()

    # When the server gets the request
    wait_until_held(page, held)
    held[0].continue_()

    # Then the answer finishes with its metadata line
    meta = answers(page).locator(".message__meta")
    expect(meta).to_contain_text("simulated", timeout=ANSWER_TIMEOUT_MS)
    expect(meta).to_contain_text("tokens")
    expect(meta).to_contain_text("ms")
    expect(answers(page)).to_contain_text("Assistant")
    expect(button(page, "Send")).to_be_enabled()
    final = answers(page).locator(".message__text").inner_text().strip()
    assert final

    # And it grew on screen: some painted frames showed a part of it before the whole
    frames: list[str] = page.evaluate("window.answerFrames")
    shown = [text for text in dict.fromkeys(frames) if text.strip()]
    partial = [text for text in shown if text.strip() != final]
    assert partial, f"the answer appeared all at once; frames seen: {shown!r}"
    assert all(final.startswith(text.strip()) for text in partial)
    assert [len(text) for text in shown] == sorted(len(text) for text in shown)


def test_second_message_continues_the_same_conversation(page: Page, chat_bodies: list[dict[str, Any]]) -> None:
    send(page, "Start a conversation about rivers.")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    # Chromium keeps no body for an event stream, so read the id the page took from it.
    conversation_id = page.get_by_role("log").get_attribute("data-conversation-id")
    assert conversation_id

    send(page, "And about lakes?")
    expect(answers(page).locator(".message__meta")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)

    assert chat_bodies[0].get("conversationId") is None
    assert chat_bodies[1]["conversationId"] == conversation_id
    expect(page.locator(".message--user")).to_have_count(2)

    # "New chat" forgets the conversation: the log empties and the next message starts another one
    button(page, "New chat").click()
    expect(page.locator(".message")).to_have_count(0)
    send(page, "Something new.")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    assert chat_bodies[2].get("conversationId") is None


def test_empty_message_is_not_sent(page: Page, chat_bodies: list[dict[str, Any]]) -> None:
    button(page, "Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Type a message")

    send(page, "   \n  ")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator(".message")).to_have_count(0)
    assert chat_bodies == []


def test_oversized_message_shows_the_server_problem_and_keeps_the_text(page: Page) -> None:
    oversized = "word " * 4_000  # 20,000 characters

    with page.expect_response(CHAT_ROUTE) as refusal:
        send(page, oversized)

    problem = refusal.value.json()
    assert refusal.value.status >= 400
    assert refusal.value.headers["content-type"].startswith("application/problem+json")
    expect(page.get_by_role("alert")).to_contain_text(problem["detail"])
    expect(prompt(page)).to_have_value(oversized)
    expect(button(page, "Send")).to_be_enabled()
    expect(page.locator(".message")).to_have_count(0)


def test_stop_cancels_the_request_and_gives_the_text_back(page: Page) -> None:
    held = hold_chat_requests(page)
    send(page, "Never mind.")
    wait_until_held(page, held)

    button(page, "Stop").click()

    expect(page.get_by_role("status")).to_have_text("Stopped before sending.")
    expect(prompt(page)).to_have_value("Never mind.")
    expect(button(page, "Send")).to_be_enabled()
    expect(button(page, "Stop")).to_be_disabled()


def test_page_fits_a_phone_screen(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    send(page, "An unbroken word " + "x" * 300)
    expect(answers(page).locator(".message__meta")).to_contain_text("simulated", timeout=ANSWER_TIMEOUT_MS)

    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, "the page scrolls sideways on a phone"


def test_an_answer_broken_mid_stream_is_continued_by_another_model_as_one_answer(
    page: Page, simulator: ProviderSimulator
) -> None:
    expect(page.get_by_text("Simulated providers")).to_be_visible()
    page.evaluate(RECORD_STATUS)
    # Given Groq will cut its answer after five pieces
    simulator.state.script("groq", Scenario(drop_after=5))

    # When the person asks
    send(page, "Tell me about fallbacks")

    # Then they read one answer, every word once: Gemini carried on where Groq stopped
    meta = answers(page).locator(".message__meta")
    expect(meta).to_contain_text("gemini-flash", timeout=ANSWER_TIMEOUT_MS)
    expect(answers(page).locator(".message__text")).to_have_text(simulated_answer("Tell me about fallbacks"))
    statuses: list[str] = page.evaluate("window.statusTexts")
    assert any(s.startswith("Continuing with Gemini Flash: Groq fast is unavailable") for s in statuses), statuses


def test_stop_stops_the_answer_on_the_server(
    page: Page, simulator: ProviderSimulator, db: psycopg.Connection[tuple[Any, ...]]
) -> None:
    # Given a long answer is streaming in
    simulator.state.script("groq", Scenario(tokens=80, token_delay_s=0.05))
    send(page, "Tell me everything")
    expect(answers(page).locator(".message__text")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)

    # When the person presses Stop
    button(page, "Stop").click()

    # Then the page says so, and the server stopped generating: the saved answer is stopped, short
    expect(page.get_by_role("status")).to_have_text("Stopped.")
    row = None
    for _ in range(50):  # the server records the stop within about a second
        row = db.execute("select status, content from messages where role = 'assistant'").fetchone()
        if row is not None and row[0] != "streaming":
            break
        page.wait_for_timeout(100)
    assert row is not None and row[0] == "stopped", row
    assert len(row[1]) < len(simulated_answer("Tell me everything", 80))
