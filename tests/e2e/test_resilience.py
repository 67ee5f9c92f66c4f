"""An answer on the page outlives what goes wrong around it: a second tab follows it, a reload
follows it, and a server killed mid-answer is reconnected to, with the page saying what happened.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from playwright.sync_api import Browser, Page, expect

from tests.conftest import make_settings
from tests.e2e.helpers import (
    ANSWER_TIMEOUT_MS,
    PATIENT_DEADLINES,
    RECORD_STATUS,
    answers,
    button,
    conversation_in_address,
    questions,
    send,
)
from tests.support.servers import app_process, free_port

pytestmark = pytest.mark.e2e


def test_a_second_tab_follows_the_live_answer_and_the_next_one(page: Page, simulator: ProviderSimulator) -> None:
    # Given an answer being written in the first tab
    simulator.state.script("groq", Scenario(tokens=60, token_delay_s=0.05))
    send(page, "Write slowly")
    expect(answers(page).locator(".message__text")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)

    # When a second tab opens the conversation's address
    second = page.context.new_page()
    second.goto(page.url)

    # Then it shows the question and the answer completes there too, once
    expect(questions(second)).to_have_text(["Write slowly"])
    expect(answers(second).locator(".message__text")).to_have_text(
        simulated_answer("Write slowly", 60), timeout=ANSWER_TIMEOUT_MS
    )
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    # And when the first tab asks again, the second follows that answer as it is written
    simulator.state.script("groq", Scenario(tokens=40, token_delay_s=0.05))
    send(page, "And again")
    expect(questions(second)).to_have_text(["Write slowly", "And again"], timeout=ANSWER_TIMEOUT_MS)
    expect(answers(second).last.locator(".message__text")).to_have_text(
        simulated_answer("And again", 40), timeout=ANSWER_TIMEOUT_MS
    )
    second.close()


def test_starting_a_new_chat_never_stops_the_answer_being_written(page: Page, simulator: ProviderSimulator) -> None:
    # Given an answer being written
    simulator.state.script("groq", Scenario(tokens=60, token_delay_s=0.05))
    send(page, "Keep going without me")
    expect(answers(page).locator(".message__text")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)
    address = page.url

    # When the person starts another chat and then comes back
    button(page, "New chat").click()
    expect(page.locator(".message")).to_have_count(0)
    page.go_back()
    assert page.url == address

    # Then the answer went on without them, and is complete
    expect(answers(page).locator(".message__text")).to_have_text(
        simulated_answer("Keep going without me", 60), timeout=ANSWER_TIMEOUT_MS
    )
    expect(answers(page).locator(".message__note")).to_have_count(0)  # not stopped, not interrupted


def test_the_page_reconnects_after_the_server_dies_mid_answer_and_says_what_happened(
    browser: Browser, database_url: str, simulator: ProviderSimulator, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(database_url, simulator, chat_flush_interval_s=0.2, **PATIENT_DEADLINES)
    log = tmp_path / "server.log"
    context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
    page = context.new_page()
    simulator.state.script("groq", Scenario(tokens=200, token_delay_s=0.05))  # about 10 s of answer
    whole = simulated_answer("Outlive the server", 200)

    with app_process(settings, port=port, log_path=log) as first:
        page.goto("/")
        page.evaluate(RECORD_STATUS)
        send(page, "Outlive the server")
        text = answers(page).locator(".message__text")
        expect(text).to_contain_text(whole[:60], timeout=ANSWER_TIMEOUT_MS)
        page.wait_for_timeout(600)  # a few flushes: the server has saved part of the answer
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

    # While the server is gone the page says it is reconnecting, and keeps what it showed
    expect(page.get_by_role("status")).to_contain_text("Reconnecting", timeout=ANSWER_TIMEOUT_MS)
    shown = text.inner_text()
    assert shown and whole.startswith(shown.strip())

    # When a server is back, the page reaches the answer again: it was interrupted, its saved
    # text stays, and the page says so and offers to try again
    with app_process(settings, port=port, log_path=log):
        alert = page.get_by_role("alert")
        # (the stream's own sentence if the page got back while the row was still being followed,
        # the page's if the answer had already been marked interrupted)
        expect(alert).to_contain_text("interrupted before it finished", timeout=40_000)
        expect(answers(page).locator(".message__note")).to_have_text(re.compile("Interrupted|Incomplete"))
        saved = text.inner_text().strip()
        assert saved and whole.startswith(saved)
        expect(questions(page)).to_have_text(["Outlive the server"])
        statuses: list[str] = page.evaluate("window.statusTexts")
        assert any(re.match(r"Connection lost\. Reconnecting in \d+ s…", s) for s in statuses), statuses
        conversation = conversation_in_address(page)

        # Retry answers the question again, in full
        simulator.state.reset()
        button(alert, "Retry").click()
        expect(answers(page).last.locator(".message__text")).to_have_text(
            simulated_answer("Outlive the server"), timeout=ANSWER_TIMEOUT_MS
        )
        assert conversation_in_address(page) == conversation
    context.close()
