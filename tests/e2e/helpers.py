"""What the e2e tests do on the chat page, in a person's terms."""

from __future__ import annotations

import re
import time

from chimera.dev.simulator import ProviderSimulator, Scenario
from playwright.sync_api import Locator, Page, Route, expect

CHAT_ROUTE = "**/api/chat"
ANSWER_TIMEOUT_MS = 15_000
# The browser, the app, the simulator and the test share two busy cores in CI, where a model's first
# token once took longer than the suite's 1.5 s deadline (a fallback test then lost Gemini's
# continuation to a timeout). No e2e test waits a deadline out, so every app they start is patient.
PATIENT_DEADLINES: dict[str, object] = {"first_token_timeout_s": 10.0, "stream_idle_timeout_s": 10.0}


def conversation_in_address(page: Page) -> str:
    """The id of the conversation on screen, from the address (#/c/<id>)."""
    match = re.search(r"#/c/([A-Za-z0-9_-]+)$", page.url)
    assert match, f"the address names no conversation: {page.url}"
    return match.group(1)


def prompt(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message")


def send(page: Page, text: str) -> None:
    # After a reload the box is there before the page's script has wired it up.
    expect(page.locator("html[data-ready]")).to_be_attached()
    prompt(page).fill(text)
    prompt(page).press("Enter")


def answers(page: Page) -> Locator:
    return page.locator(".message--assistant")


def questions(page: Page) -> Locator:
    return page.locator(".message--user .message__text")


def question_of(body: dict[str, object]) -> str:
    """The question a chat request body carries (the AI SDK's shape: the last user message)."""
    messages = body["messages"]
    assert isinstance(messages, list)
    return str(messages[-1]["parts"][0]["text"])


def button(page: Page | Locator, name: str) -> Locator:
    """Exact names: conversation titles in the list are buttons too, and may contain "Send"."""
    return page.get_by_role("button", name=name, exact=True)


def chats_through_the_api(page: Page, simulator: ProviderSimulator, messages: list[str]) -> None:
    """A conversation for each message, made straight through the API (one-word answers, to be
    quick), oldest first; then the page is reloaded to list them."""
    token = page.request.post("/api/dev/token").json()["accessToken"]
    simulator.state.script("groq", *[Scenario(tokens=1, first_token_delay_s=0)] * len(messages))
    for message in messages:
        made = page.request.post("/api/chat", data={"message": message}, headers={"Authorization": f"Bearer {token}"})
        assert made.ok, made.text()
    page.reload()
    expect(page.locator("html[data-ready]")).to_be_attached()


def chat(page: Page, text: str) -> str:
    """Send a message, wait for the whole answer, and return the conversation's title."""
    finished = answers(page).locator(".message__meta")
    before = finished.count()
    send(page, text)
    expect(finished).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    title = page.locator("#conversation-title")
    expect(title).to_be_visible()
    return title.inner_text()


def hold_chat_requests(page: Page) -> list[Route]:
    """Pause each chat request before it leaves the browser; the test releases it."""
    held: list[Route] = []
    page.route(CHAT_ROUTE, lambda route: held.append(route))
    return held


def wait_until_held(page: Page, held: list[Route], count: int = 1) -> None:
    deadline = time.monotonic() + 5
    while len(held) < count:
        assert time.monotonic() < deadline, "the chat request never left the page"
        page.wait_for_timeout(10)  # lets Playwright dispatch the route handler


# Keeps every text the status line shows, since it changes (and is cleared) as an answer goes on.
RECORD_STATUS = """
() => {
  window.statusTexts = [];
  const status = document.getElementById("status");
  new MutationObserver(() => window.statusTexts.push(status.textContent))
    .observe(status, { childList: true, characterData: true, subtree: true });
}
"""


def refuse_the_next_chat_token(page: Page) -> list[str]:
    """The server refuses the page's token for the next chat only (a key rotation, a clock off by
    minutes), with the 401 it sends; returns the refused Authorization headers."""
    refusals: list[str] = []

    def refuse_once(route: Route) -> None:
        if refusals:
            route.continue_()
            return
        refusals.append(route.request.headers.get("authorization", ""))
        route.fulfill(
            status=401,
            content_type="application/problem+json",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            body='{"title": "Unauthorized", "status": 401, "detail": "The access token has expired."}',
        )

    page.route(CHAT_ROUTE, refuse_once)
    return refusals
