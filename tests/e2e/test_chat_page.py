"""The chat page in a real browser, against the real app with the provider simulator behind it.

`live_server` (tests/conftest.py) yields the base URL of the app serving the built page and /api.
The simulator's answers are deterministic but these tests only assert behaviour a person sees.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from playwright.sync_api import Page, Route, expect

from tests.e2e.helpers import (
    ANSWER_TIMEOUT_MS,
    CHAT_ROUTE,
    RECORD_STATUS,
    answers,
    button,
    conversation_in_address,
    hold_chat_requests,
    prompt,
    question_of,
    questions,
    send,
    wait_until_held,
)
from tests.support.servers import AppServer

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
    expect(page.get_by_text("Simulated", exact=True)).to_be_visible()
    held = hold_chat_requests(page)
    page.evaluate(RECORD_ANSWER_FRAMES)

    # When the person presses Enter while the request has not even reached the server
    send(page, "How do streaming answers work?")

    # Then their message is already on the page and the page says it is waiting
    expect(questions(page)).to_have_text(["How do streaming answers work?"])
    expect(page.get_by_role("article", name="You said")).to_have_count(1)
    expect(prompt(page)).to_have_value("")
    expect(prompt(page)).to_be_focused()
    expect(page.get_by_role("status")).to_have_text("Thinking…")
    expect(button(page, "Send")).to_be_hidden()
    expect(button(page, "Stop")).to_be_enabled()

    # When the server gets the request
    wait_until_held(page, held)
    held[0].continue_()

    # Then the answer finishes with its metadata line
    meta = answers(page).locator(".message__meta")
    expect(meta).to_contain_text("simulated", timeout=ANSWER_TIMEOUT_MS)
    expect(meta).to_contain_text("tokens")
    expect(meta).to_contain_text("ms")
    expect(page.get_by_role("article", name="Chimera answered")).to_have_count(1)
    expect(button(page, "Send")).to_be_enabled()
    final = answers(page).locator(".message__text").inner_text().strip()
    assert final == simulated_answer("How do streaming answers work?")

    # And it grew on screen: some painted frames showed a part of it before the whole
    frames: list[str] = page.evaluate("window.answerFrames")
    shown = [text for text in dict.fromkeys(frames) if text.strip()]
    partial = [text for text in shown if text.strip() != final]
    assert partial, f"the answer appeared all at once; frames seen: {shown!r}"
    assert all(final.startswith(text.strip()) for text in partial)
    assert [len(text) for text in shown] == sorted(len(text) for text in shown)

    # And a screen reader heard the whole answer once, when it was complete
    expect(page.locator("#announcer")).to_have_text(f"Answer: {final}")


def test_second_message_continues_the_same_conversation(page: Page, chat_bodies: list[dict[str, Any]]) -> None:
    send(page, "Start a conversation about rivers.")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    conversation_id = conversation_in_address(page)

    send(page, "And about lakes?")
    expect(answers(page).locator(".message__meta")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)

    # The page chose the new conversation's id and sent only the question each time
    assert [body["id"] for body in chat_bodies] == [conversation_id, conversation_id]
    assert [question_of(body) for body in chat_bodies] == ["Start a conversation about rivers.", "And about lakes?"]
    assert all(len(body["messages"]) == 1 for body in chat_bodies)
    expect(questions(page)).to_have_count(2)

    # "New chat" forgets the conversation: the welcome returns and the next message starts another
    button(page, "New chat").click()
    expect(page.locator(".message")).to_have_count(0)
    expect(page.get_by_role("heading", name="What shall we work on?")).to_be_visible()
    send(page, "Something new.")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    assert chat_bodies[2]["id"] != conversation_id


def test_a_suggested_prompt_starts_a_chat(page: Page, chat_bodies: list[dict[str, Any]]) -> None:
    button(page, "Plan a calm weekend").click()
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    assert question_of(chat_bodies[0]) == "Give me three ideas for a calm weekend in a new city."


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


def test_stop_before_the_answer_starts_stops_it_as_soon_as_it_does(
    page: Page, simulator: ProviderSimulator, db: psycopg.Connection[tuple[Any, ...]]
) -> None:
    # Given a message on its way (the server may already have it, so it is not cut off)
    simulator.state.script("groq", Scenario(tokens=80, token_delay_s=0.05))
    held = hold_chat_requests(page)
    send(page, "Never mind.")
    wait_until_held(page, held)

    # When the person presses Stop before the answer has started
    button(page, "Stop").click()
    expect(page.get_by_role("status")).to_have_text("Stopping…")
    held[0].continue_()

    # Then the answer is stopped as soon as it exists, and the conversation is free for the next
    expect(page.get_by_role("status")).to_have_text("Stopped.", timeout=ANSWER_TIMEOUT_MS)
    expect(button(page, "Send")).to_be_enabled()
    expect(prompt(page)).to_be_focused()
    row = db.execute("select status, content from messages where role = 'assistant'").fetchone()
    assert row is not None and row[0] == "stopped", row
    assert len(row[1]) < len(simulated_answer("Never mind.", 80))
    page.unroute(CHAT_ROUTE)
    send(page, "Something else, then.")
    expect(questions(page)).to_have_text(["Never mind.", "Something else, then."])
    expect(answers(page).last.locator(".message__meta")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)


def test_what_is_typed_survives_a_reload(page: Page) -> None:
    prompt(page).fill("Half a thought")
    page.reload()
    expect(prompt(page)).to_have_value("Half a thought")


def test_page_fits_a_phone_screen(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    send(page, "An unbroken word " + "x" * 300)
    expect(answers(page).locator(".message__meta")).to_contain_text("simulated", timeout=ANSWER_TIMEOUT_MS)

    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, "the page scrolls sideways on a phone"
    # The conversation keeps most of the height
    conversation = page.locator("#conversation").bounding_box()
    assert conversation is not None and conversation["height"] > 0.6 * 740


def test_an_answer_broken_mid_stream_is_continued_by_another_model_as_one_answer(
    page: Page, simulator: ProviderSimulator
) -> None:
    expect(page.get_by_text("Simulated", exact=True)).to_be_visible()
    page.evaluate(RECORD_STATUS)
    # Given Groq will cut its answer after five pieces
    simulator.state.script("groq", Scenario(drop_after=5))

    # When the person asks
    send(page, "Tell me about fallbacks")

    # Then they read one answer, every word once: Gemini carried on where Groq stopped
    meta = answers(page).locator(".message__meta")
    expect(meta).to_contain_text("Gemini Flash", timeout=ANSWER_TIMEOUT_MS)
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

    # When the person presses Escape
    page.keyboard.press("Escape")

    # Then the page says so, and the server stopped generating: the saved answer is stopped, short
    expect(page.get_by_role("status")).to_have_text("Stopped.")
    expect(answers(page).locator(".message__note")).to_have_text("Stopped.")
    expect(prompt(page)).to_be_focused()
    row = None
    for _ in range(50):  # the server records the stop within about a second
        row = db.execute("select status, content from messages where role = 'assistant'").fetchone()
        if row is not None and row[0] != "streaming":
            break
        page.wait_for_timeout(100)
    assert row is not None and row[0] == "stopped", row
    assert len(row[1]) < len(simulated_answer("Tell me everything", 80))


def test_regenerate_answers_again_and_keeps_the_old_answer_folded(
    page: Page, chat_bodies: list[dict[str, Any]], db: psycopg.Connection[tuple[Any, ...]]
) -> None:
    send(page, "Pick a colour")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    button(page, "Regenerate").click()

    expect(page.get_by_text("Earlier answer (replaced)")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(button(page, "Regenerate")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert chat_bodies[-1]["trigger"] == "regenerate-message"
    states = db.execute("select status from messages where role = 'assistant' order by created_at").fetchall()
    assert [s for (s,) in states] == ["replaced", "complete"]

    # After a reload the history shows the same
    page.reload()
    expect(page.get_by_text("Earlier answer (replaced)")).to_be_visible()
    expect(answers(page)).to_have_count(2)


def test_edit_the_last_message_and_resend(
    page: Page, chat_bodies: list[dict[str, Any]], db: psycopg.Connection[tuple[Any, ...]]
) -> None:
    send(page, "What is the capital of Frnace?")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    # The last question offers Edit; Escape cancels, Enter sends the new text
    question = page.get_by_role("article", name="You said")
    question.hover()
    button(question, "Edit").click()
    field = page.get_by_role("textbox", name="Edit your message")
    expect(field).to_be_focused()
    field.press("Escape")
    expect(field).to_have_count(0)

    question.hover()
    button(question, "Edit").click()
    field.fill("What is the capital of France?")
    field.press("Enter")

    expect(answers(page).locator(".message__text").last).to_have_text(
        simulated_answer("What is the capital of France?"), timeout=ANSWER_TIMEOUT_MS
    )
    expect(page.get_by_text("Earlier question (edited)")).to_be_visible()
    assert chat_bodies[-1]["messageId"]
    rows = db.execute("select role, content, status from messages order by created_at").fetchall()
    assert [(role, state) for role, _, state in rows] == [
        ("user", "replaced"),
        ("assistant", "replaced"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert rows[2][1] == "What is the capital of France?"


def test_a_short_rate_limit_counts_down_and_sends_by_itself(page: Page, chat_bodies: list[dict[str, Any]]) -> None:
    # The server's 429 as the limits send it (tests/integration/test_limits.py checks the server side)
    refused: list[Route] = []

    def refuse_once(route: Route) -> None:
        if refused:
            route.continue_()
            return
        refused.append(route)
        route.fulfill(
            status=429,
            content_type="application/problem+json",
            headers={"Retry-After": "2"},
            json={
                "title": "Too many requests",
                "status": 429,
                "detail": "You have sent 10 messages in the last minute. Please wait 2 seconds and send it again.",
                "retryAfterSeconds": 2,
            },
        )

    page.route(CHAT_ROUTE, refuse_once)
    send(page, "Patience")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please wait 2 seconds")
    expect(alert).to_contain_text(re.compile(r"Sending in \d s"))
    expect(page.get_by_text("Waiting to send…")).to_be_visible()

    # Then it goes by itself once the wait is over, and is answered
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(alert).to_be_hidden()
    expect(questions(page)).to_have_text(["Patience"])
    assert len(refused) == 1


def test_a_long_rate_limit_keeps_the_text_and_counts_down(page: Page) -> None:
    page.route(
        CHAT_ROUTE,
        lambda route: route.fulfill(
            status=429,
            content_type="application/problem+json",
            json={
                "title": "Too many requests",
                "status": 429,
                "detail": "Please wait 2 minutes.",
                "retryAfterSeconds": 120,
            },
        ),
    )
    send(page, "Later then")
    expect(page.get_by_role("alert")).to_contain_text("You can send again in 2 min")
    expect(prompt(page)).to_have_value("Later then")
    expect(page.locator(".message")).to_have_count(0)


def test_a_provider_error_offers_retry(page: Page, simulator: ProviderSimulator, app_server: AppServer) -> None:
    # Given every model fails
    for provider in ("groq", "gemini"):
        simulator.state.script(provider, *[Scenario(status=500)] * 20)
    send(page, "Anyone there?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("No AI model could answer", timeout=ANSWER_TIMEOUT_MS)
    expect(answers(page)).to_have_count(0)  # nothing was written: the alert says why

    # When the providers are back and the person presses Retry, the question is answered again
    simulator.state.reset()
    app_server.runtime.chat.health.clear()  # type: ignore[attr-defined]
    button(alert, "Retry").click()
    expect(answers(page).last.locator(".message__text")).to_have_text(
        simulated_answer("Anyone there?"), timeout=ANSWER_TIMEOUT_MS
    )
    expect(alert).to_be_hidden()
