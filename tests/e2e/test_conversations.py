"""The conversation list and the address, in a real browser against the real app.

Every live_server test shares one database and one local person, so each test makes its own
conversations from unique messages and asserts on those, never on how long the list is.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from playwright.sync_api import Locator, Page, Request, expect

from tests.e2e.helpers import (
    ANSWER_TIMEOUT_MS,
    answers,
    button,
    chat,
    chats_through_the_api,
    conversation_in_address,
    hold_chat_requests,
    prompt,
    refuse_the_next_chat_token,
    send,
    wait_until_held,
)

pytestmark = pytest.mark.e2e


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


def conversation_list(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Chats")


def link(page: Page | Locator, title: str) -> Locator:
    return page.get_by_role("link", name=title, exact=True)


def entry(page: Page, title: str) -> Locator:
    """One conversation's list item, found by its title."""
    return conversation_list(page).get_by_role("listitem").filter(has=link(page, title))


def action(item: Locator, label: str) -> Locator:
    """An entry's Rename or Delete button, shown on hover; its name goes on with the title."""
    item.hover()
    return item.get_by_role("button", name=re.compile(rf"^{label} “"))


def count(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def test_reopening_a_conversation_shows_it_and_continues_it(page: Page, chat_bodies: list[dict[str, Any]]) -> None:
    # Given two conversations, made one after the other
    first_message = unique("Tell me about rivers")
    first_title = chat(page, first_message)
    first_id = conversation_in_address(page)
    first_answer = answers(page).locator(".message__text").inner_text()
    button(page, "New chat").click()
    second_title = chat(page, unique("Tell me about mountains"))

    # Then the list shows both, the newer first, and marks the one on screen
    titles = conversation_list(page).locator(".history__title")
    expect(titles).to_contain_text([second_title, first_title])
    expect(link(conversation_list(page), second_title)).to_have_attribute("aria-current", "page")

    # When the person reopens the first
    link(conversation_list(page), first_title).click()

    # Then its messages are back, with the answer's metadata line, and it is marked as open
    expect(page.locator(".message--user .message__text")).to_have_text([first_message])
    expect(answers(page).locator(".message__text")).to_have_text([first_answer])
    expect(answers(page).locator(".message__meta")).to_contain_text(re.compile(r"\d+ tokens .*simulated"))
    expect(page.locator("#conversation-title")).to_have_text(first_title)
    expect(link(conversation_list(page), first_title)).to_have_attribute("aria-current", "page")
    expect(link(conversation_list(page), second_title)).not_to_have_attribute("aria-current", "page")

    # And the next message continues that conversation
    send(page, "And which is the longest?")
    expect(answers(page).locator(".message__meta")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    assert chat_bodies[-1]["id"] == first_id
    expect(page.locator("#conversation-title")).to_have_text(first_title)


def test_rename_updates_the_list_and_survives_a_reload(page: Page) -> None:
    title = chat(page, unique("Name this chat"))
    renamed = unique("Renamed chat")
    item = entry(page, title)
    field = conversation_list(page).get_by_role("textbox", name="New title")

    # The title turns into a field; Escape leaves the title as it was
    action(item, "Rename").click()
    expect(field).to_be_focused()
    expect(field).to_have_value(title)
    field.fill("Not this one")
    field.press("Escape")
    expect(field).to_have_count(0)
    expect(link(conversation_list(page), title)).to_be_focused()

    # Enter saves the new one
    action(item, "Rename").click()
    field.fill(renamed)
    field.press("Enter")

    expect(link(conversation_list(page), renamed)).to_be_visible()
    expect(link(conversation_list(page), title)).to_have_count(0)
    expect(page.locator("#conversation-title")).to_have_text(renamed)

    page.reload()
    expect(link(conversation_list(page), renamed)).to_be_visible()
    expect(link(conversation_list(page), title)).to_have_count(0)


def test_load_more_shows_older_conversations(page: Page, simulator: ProviderSimulator) -> None:
    # Given more conversations than one page holds
    oldest, *newer = [unique("One of many chats") for _ in range(21)]
    chats_through_the_api(page, simulator, [oldest, *newer])

    expect(link(conversation_list(page), newer[-1])).to_be_visible()
    expect(link(conversation_list(page), oldest)).to_have_count(0)

    button(page, "Load more").click()
    expect(link(conversation_list(page), oldest)).to_be_visible()
    for title in [oldest, *newer]:
        expect(link(conversation_list(page), title)).to_have_count(1)  # listed once, across both pages


def test_a_rename_in_progress_survives_the_list_reloading(page: Page) -> None:
    title = chat(page, unique("Rename me meanwhile"))
    button(page, "New chat").click()
    held = hold_chat_requests(page)
    other = unique("Another chat")
    send(page, other)
    wait_until_held(page, held)

    field = conversation_list(page).get_by_role("textbox", name="New title")
    action(entry(page, title), "Rename").click()
    field.fill("Half typed")

    # When the other answer finishes, the list reloads with the new conversation at the top
    held[0].continue_()
    expect(link(conversation_list(page), other)).to_be_visible(timeout=ANSWER_TIMEOUT_MS)

    # Then the half-typed title is still there, still being typed
    expect(field).to_have_value("Half typed")
    expect(field).to_be_focused()


def test_delete_asks_first_then_removes_the_conversation(page: Page) -> None:
    kept = chat(page, unique("Keep this chat"))
    button(page, "New chat").click()
    doomed = chat(page, unique("Remove this chat"))
    dialog = page.get_by_role("dialog")

    # Cancel keeps it
    action(entry(page, doomed), "Delete").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(doomed)
    button(dialog, "Cancel").click()
    expect(dialog).to_be_hidden()
    expect(link(conversation_list(page), doomed)).to_be_visible()

    # Confirming deletes it; it was open, so the page starts a new chat
    action(entry(page, doomed), "Delete").click()
    button(dialog, "Delete").click()
    expect(dialog).to_be_hidden()
    expect(link(conversation_list(page), doomed)).to_have_count(0)
    expect(page.locator(".message")).to_have_count(0)
    expect(page.locator("#conversation-title")).to_be_empty()

    page.reload()
    expect(link(conversation_list(page), kept)).to_be_visible()
    expect(link(conversation_list(page), doomed)).to_have_count(0)


def test_chat_requests_carry_a_bearer_token(page: Page) -> None:
    authorizations: list[str] = []

    def on_request(request: Request) -> None:
        if request.url.endswith("/api/chat"):
            authorizations.append(request.headers.get("authorization", ""))

    page.on("request", on_request)
    chat(page, unique("Who am I?"))

    assert len(authorizations) == 1
    assert re.fullmatch(r"Bearer \S+", authorizations[0])


def test_a_refused_token_is_renewed_once_and_the_message_sent_again(page: Page) -> None:
    refusals = refuse_the_next_chat_token(page)
    with page.expect_request("**/api/dev/token"):
        chat(page, unique("Try again quietly"))

    expect(page.get_by_role("alert")).to_be_hidden()
    assert len(refusals) == 1


def test_on_a_phone_the_list_is_behind_a_toggle(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    title = chat(page, unique("A chat on a phone"))
    toggle = button(page, "Chats")
    expect(conversation_list(page)).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(link(conversation_list(page), title)).to_be_visible()
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, "the open list scrolls sideways on a phone"

    # Choosing a conversation closes the list and shows it
    link(conversation_list(page), title).click()
    expect(conversation_list(page)).to_be_hidden()
    expect(page.locator(".message--user")).to_have_count(1)
    expect(prompt(page)).to_be_focused()


def test_the_address_names_the_conversation_and_a_reload_follows_its_answer_to_the_end(
    page: Page, simulator: ProviderSimulator
) -> None:
    # Given a long answer is being written
    simulator.state.script("groq", Scenario(tokens=60, token_delay_s=0.05))
    send(page, "Write a long one")
    expect(page.locator(".message--assistant .message__text")).not_to_be_empty(timeout=ANSWER_TIMEOUT_MS)

    # Then the address names the conversation
    expect(page).to_have_url(re.compile(r"#/c/[A-Za-z0-9_-]+$"))
    address = page.url

    # When the person reloads mid-answer
    page.reload()

    # Then the conversation reopens and its answer completes before their eyes, once
    expect(page.locator(".message--user .message__text")).to_have_text(["Write a long one"])
    answer = page.locator(".message--assistant .message__text")
    expect(answer).to_have_count(1)
    expect(answer).to_have_text(simulated_answer("Write a long one", 60), timeout=ANSWER_TIMEOUT_MS)
    assert page.url == address

    # And back leaves it for a new chat, forward reopens it
    button(page, "New chat").click()
    expect(page.locator(".message")).to_have_count(0)
    page.go_back()
    expect(page.locator(".message--user .message__text")).to_have_text(["Write a long one"])
    page.go_forward()
    expect(page.locator(".message")).to_have_count(0)
