"""How the page looks, kept as artifacts: desktop and phone, light and dark, empty and with a long
markdown answer, in test-results/screenshots/. And the layout holds where it is tight: 320 px wide,
and at 200% zoom (a 1280×800 window zoomed to 200% is a 640×400 CSS viewport at twice the pixels).

The long answer is made once, through the API, and each test opens it by its address: how it
streams is test_long_answer.py's business, how it looks is this file's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import answers, prompt
from tests.support.servers import AppServer
from tests.support.sse import iter_events, of_type

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1},
    "phone": {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2},
    "narrow-320": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2},
    "zoom-200": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}


@contextmanager
def open_page(browser: Browser, live_server: str, size: str, scheme: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server,
        color_scheme=scheme,  # type: ignore[arg-type]
        reduced_motion="reduce",
        **SIZES[size],  # type: ignore[arg-type]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    expect(page.locator("html[data-ready]")).to_be_attached()
    try:
        yield page
    finally:
        context.close()
    assert errors == [], "the page threw uncaught errors"


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled", caret="initial")


@pytest.fixture(scope="module")
def long_conversation(app_server: AppServer, simulator: ProviderSimulator) -> str:
    """The address of a conversation whose answer is 2,000+ tokens of markdown (code, tables, lists)."""
    simulator.state.script("groq", Scenario(shape="long", token_delay_s=0, first_token_delay_s=0))
    with httpx.Client(base_url=app_server.url, timeout=60) as client:
        token = client.post("/api/dev/token").json()["accessToken"]
        body = {"message": "Explain streaming with examples"}
        headers = {"Authorization": f"Bearer {token}"}
        with client.stream("POST", "/api/chat", json=body, headers=headers) as response:
            assert response.status_code == 200, response.read()
            events = [received.event for received in iter_events(response)]
    assert of_type(events, "finish"), events[-3:]
    return f"/#/c/{of_type(events, 'data-conversation')[0]['data']['conversationId']}"


def long_answer(page: Page, address: str) -> None:
    page.goto(address)
    expect(answers(page).locator(".message__meta")).to_have_count(1)
    expect(answers(page).locator("table").first).to_be_visible()


def assert_fits(page: Page) -> None:
    """Nothing scrolls sideways but code and tables, and the message box is there to type in."""
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    expect(prompt(page)).to_be_in_viewport()


def conversation_share(page: Page) -> float:
    box = page.locator("#conversation").bounding_box()
    height = (page.viewport_size or {"height": 1})["height"]
    assert box is not None
    return float(box["height"]) / height


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots(browser: Browser, live_server: str, long_conversation: str, size: str, scheme: str) -> None:
    with open_page(browser, live_server, size, scheme) as page:
        shoot(page, f"{size}-{scheme}-empty")
        assert_fits(page)

        long_answer(page, long_conversation)
        # The view opens at the conversation's end
        expect(answers(page).locator(".message__meta")).to_be_in_viewport()
        shoot(page, f"{size}-{scheme}-long-answer-end")
        # The middle of the answer: a table and code
        page.locator(".message--assistant table").first.scroll_into_view_if_needed()
        shoot(page, f"{size}-{scheme}-long-answer-table")
        assert_fits(page)
        if size == "phone":
            # The conversation keeps most of the height
            assert conversation_share(page) > 0.7, conversation_share(page)
            page.get_by_role("button", name="Chats").click()
            expect(page.locator("#sidebar")).to_be_visible()
            shoot(page, f"{size}-{scheme}-chat-list")


@pytest.mark.parametrize("size", ["narrow-320", "zoom-200"])
def test_the_layout_holds_when_tight(browser: Browser, live_server: str, long_conversation: str, size: str) -> None:
    with open_page(browser, live_server, size, "light") as page:
        shoot(page, f"{size}-empty")
        assert_fits(page)
        expect(page.get_by_role("button", name="Explain how server-sent events work")).to_be_visible()

        long_answer(page, long_conversation)
        page.locator(".message--assistant table").first.scroll_into_view_if_needed()
        shoot(page, f"{size}-long-answer")
        assert_fits(page)
        # The conversation keeps more of the height than the header and the message box together
        assert conversation_share(page) > 0.5, conversation_share(page)

        # The usage dialog fits too, and scrolls within itself
        if page.locator("#sidebar-toggle").is_visible():
            page.locator("#sidebar-toggle").click()
        page.get_by_role("button", name="Usage", exact=True).click()
        dialog = page.get_by_role("dialog", name="Usage, last 30 days")
        expect(dialog.get_by_role("figure", name="Tokens per day")).to_be_visible()
        box = dialog.bounding_box()
        viewport = page.viewport_size or {"width": 0, "height": 0}
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
        shoot(page, f"{size}-usage")
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert_fits(page)
