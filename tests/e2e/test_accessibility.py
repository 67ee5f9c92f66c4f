"""Accessibility: axe-core finds nothing, and the page works from the keyboard alone.

axe-core comes from npm (frontend/node_modules, a devDependency in the lock file) and is injected
into the page; it is never fetched from a CDN. It runs on each state a person meets: the empty
page, an answer streaming, a conversation with history (a long markdown answer with code and a
table), an error (a refused message), and the dialogs (delete confirmation, usage), in light and
dark, at desktop (1280×800) and phone (375×812) sizes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.helpers import ANSWER_TIMEOUT_MS, answers, button, chats_through_the_api, prompt, send

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
LONG_ANSWER_TIMEOUT_MS = 60_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}

RUN_AXE = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => {
      const why = (n.failureSummary || "").split("\\n").slice(1, 2).join("");
      return `${n.target.join(" ")} :: ${why}`;
    }),
  }));
}
"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return violations


def look(found: dict[str, list[dict[str, Any]]], state: str, page: Page) -> None:
    """axe on one state painted both ways: the page follows prefers-color-scheme, so the same
    state is checked in light and in dark without building it twice."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        found[f"{state}, {scheme}"] = axe_violations(page)


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for state, violations in found.items():
        for v in violations:
            lines.append(f"[{state}] {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"      {node}" for node in v["nodes"])
    return "\n".join(lines)


def open_page(browser: Browser, live_server: str, viewport: str, scheme: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server,
        viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
        color_scheme=scheme,  # type: ignore[arg-type]
        reduced_motion="reduce",  # a still page: axe's colour checks read what is painted
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    expect(page.locator("html[data-ready]")).to_be_attached()
    yield page
    context.close()
    assert errors == [], "the page threw uncaught errors"


@pytest.fixture(params=list(VIEWPORTS))
def shaped_page(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[Page]:
    yield from open_page(browser, live_server, request.param, "light")


def is_phone(page: Page) -> bool:
    return (page.viewport_size or {"width": 1280})["width"] < 800


def show_chat_list(page: Page) -> None:
    """On a phone the list is behind the Chats button; on a desktop it is always there."""
    if is_phone(page):
        toggle = page.locator("#sidebar-toggle")
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        expect(page.locator("#sidebar")).to_be_visible()


def hide_chat_list(page: Page) -> None:
    """Escape from within the list closes it (the button behind it is inert while it is open)."""
    if is_phone(page) and page.locator("#sidebar-toggle").get_attribute("aria-expanded") == "true":
        page.get_by_role("button", name="New chat").focus()
        page.keyboard.press("Escape")
        expect(page.locator("#sidebar")).to_be_hidden()


def test_axe_finds_nothing_in_any_state(shaped_page: Page, simulator: ProviderSimulator) -> None:
    page = shaped_page
    found: dict[str, list[dict[str, Any]]] = {}

    # The empty page: a welcome and suggested prompts
    look(found, "empty", page)

    # An answer streaming (slowly, so it is still being written while axe looks)
    simulator.state.script("groq", Scenario(tokens=400, token_delay_s=0.05))
    send(page, "Tell me a long story, slowly")
    expect(page.locator(".message--live[data-phase='streaming']")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    look(found, "streaming", page)
    page.keyboard.press("Escape")
    expect(button(page, "Stop")).to_be_hidden()

    # A conversation with history: a long markdown answer (code, a table, links) and more, reopened
    simulator.state.script("groq", Scenario(shape="long", token_delay_s=0.001))
    send(page, "Explain streaming with examples")
    expect(answers(page).locator(".message__meta")).to_have_count(2, timeout=LONG_ANSWER_TIMEOUT_MS)
    send(page, "Thank you")
    expect(answers(page).locator(".message__meta")).to_have_count(3, timeout=ANSWER_TIMEOUT_MS)
    page.reload()
    expect(answers(page)).to_have_count(3)
    expect(answers(page).nth(1).locator("table")).to_be_visible()
    look(found, "history", page)

    if is_phone(page):
        show_chat_list(page)
        look(found, "chat list over the conversation", page)

    # The delete confirmation, asked for from the keyboard on the chat in the list
    show_chat_list(page)
    page.locator(".history__open[aria-current='page']").focus()
    page.keyboard.press("Delete")
    delete_dialog = page.get_by_role("dialog", name="Delete this conversation?")
    expect(delete_dialog).to_be_visible()
    look(found, "delete dialog", page)
    page.keyboard.press("Escape")
    expect(delete_dialog).to_be_hidden()

    # The usage dialog
    show_chat_list(page)
    page.get_by_role("button", name="Usage", exact=True).click()
    usage = page.get_by_role("dialog", name="Usage, last 30 days")
    expect(usage.get_by_role("figure", name="Tokens per day")).to_be_visible()
    usage.get_by_text("Show the numbers per day").click()
    look(found, "usage dialog", page)
    page.keyboard.press("Escape")
    expect(usage).to_be_hidden()
    hide_chat_list(page)

    # An error: a message the server refuses (too long), with the text kept in the box
    page.goto("/")
    expect(page.locator("html[data-ready]")).to_be_attached()
    send(page, "word " * 4_000)
    expect(page.get_by_role("alert")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    look(found, "error", page)

    found = {state: violations for state, violations in found.items() if violations}
    assert not found, "axe found:\n" + describe(found)


# --- The keyboard alone ----------------------------------------------------------------------------


@pytest.fixture
def desktop(browser: Browser, live_server: str) -> Iterator[Page]:
    yield from open_page(browser, live_server, "desktop", "light")


def focused(page: Page) -> str:
    description: str = page.evaluate(
        "(() => { const e = document.activeElement;"
        " return e ? `${e.tagName.toLowerCase()}#${e.id}.${e.className}` : ''; })()"
    )
    return description


def test_the_skip_link_is_the_first_tab_stop_and_reaches_the_message_box(desktop: Page) -> None:
    page = desktop
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the message box")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused
    page.keyboard.press("Enter")
    expect(prompt(page)).to_be_focused()


def test_a_conversation_by_keyboard_alone(desktop: Page, simulator: ProviderSimulator) -> None:
    page = desktop
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(prompt(page)).to_be_focused()

    # Typed and sent with Enter; the focus stays in the box
    page.keyboard.type("What is a server-sent event?")
    page.keyboard.press("Enter")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(prompt(page)).to_be_focused()

    # Escape stops an answer being written, and the focus is in the box after
    simulator.state.script("groq", Scenario(tokens=400, token_delay_s=0.05))
    page.keyboard.type("Tell me more, at length")
    page.keyboard.press("Enter")
    expect(page.locator(".message--live[data-phase='streaming']")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    page.keyboard.press("Escape")
    expect(button(page, "Stop")).to_be_hidden()
    expect(answers(page).last).to_contain_text("Stopped.")
    expect(prompt(page)).to_be_focused()

    # The Stop button, reached with Tab and pressed with Enter, also gives the focus back to the box
    simulator.state.script("groq", Scenario(tokens=400, token_delay_s=0.05))
    page.keyboard.type("And once more")
    page.keyboard.press("Enter")
    expect(page.locator(".message--live[data-phase='streaming']")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    page.keyboard.press("Tab")
    expect(button(page, "Stop")).to_be_focused()
    page.keyboard.press("Enter")
    expect(button(page, "Stop")).to_be_hidden()
    expect(prompt(page)).to_be_focused()

    # Every control on the way is visibly focused (an outline or a box shadow when it has focus)
    page.keyboard.press("Shift+Tab")
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none'; })()"
    )
    assert outline, f"no visible focus on {focused(page)}"


def make_chats(page: Page, simulator: ProviderSimulator, count: int) -> list[str]:
    titles = [f"Keyboard chat {i:02d}" for i in range(count)]
    chats_through_the_api(page, simulator, titles)
    return titles


def chat_link(page: Page, title: str) -> Locator:
    return page.locator("#history-list").get_by_role("link", name=title, exact=True)


def test_twenty_chats_cost_twenty_tab_stops_and_f2_and_delete_act_on_the_focused_one(
    desktop: Page, simulator: ProviderSimulator
) -> None:
    page = desktop
    titles = make_chats(page, simulator, 20)
    expect(chat_link(page, titles[-1])).to_be_visible()
    shown = page.locator("#history-list .history__open").count()
    assert shown >= 20

    # Tab from New chat through the list: one stop per chat, then on past it
    page.get_by_role("button", name="New chat").focus()
    stops_in_list = 0
    for _ in range(shown * 3):
        page.keyboard.press("Tab")
        if not page.evaluate("document.getElementById('history-list').contains(document.activeElement)"):
            break
        assert page.evaluate("document.activeElement.matches('.history__open')"), focused(page)
        stops_in_list += 1
    assert stops_in_list == shown, f"{stops_in_list} tab stops for {shown} chats"

    # F2 on a focused chat renames it; Escape leaves it as it was, with the focus back on the chat
    chat = chat_link(page, titles[5])
    chat.focus()
    page.keyboard.press("F2")
    field = page.get_by_role("textbox", name="New title")
    expect(field).to_be_focused()
    expect(field).to_have_value(titles[5])
    page.keyboard.press("Escape")
    expect(field).to_have_count(0)
    expect(chat).to_be_focused()

    # F2, a new name and Enter renames it
    page.keyboard.press("F2")
    page.keyboard.type("Renamed by keyboard")
    page.keyboard.press("Enter")
    renamed = chat_link(page, "Renamed by keyboard")
    expect(renamed).to_be_visible()
    expect(renamed).to_be_focused()

    # Delete on a focused chat asks first; Cancel (Escape) returns the focus to the chat
    page.keyboard.press("Delete")
    dialog = page.get_by_role("dialog", name="Delete this conversation?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Renamed by keyboard")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(renamed).to_be_focused()

    # Delete, then Tab to the dialog's Delete and Enter: it is gone and the focus is on a neighbour
    page.keyboard.press("Delete")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Delete")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(renamed).to_have_count(0)
    expect(page.locator("#history-list .history__open:focus")).to_have_count(1)


def test_dialogs_give_the_focus_back(desktop: Page) -> None:
    page = desktop
    usage_button = page.get_by_role("button", name="Usage", exact=True)
    usage_button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Usage, last 30 days")
    expect(dialog).to_be_visible()
    # The focus is inside the dialog, and Tab keeps it there
    assert page.evaluate("document.getElementById('usage-dialog').contains(document.activeElement)")
    for _ in range(4):
        page.keyboard.press("Tab")
        inside = "document.getElementById('usage-dialog').contains(document.activeElement)"
        assert page.evaluate(f"{inside} || document.activeElement === document.body"), focused(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(usage_button).to_be_focused()


def test_in_forced_colours_the_open_chat_still_stands_out(desktop: Page, simulator: ProviderSimulator) -> None:
    page = desktop
    titles = make_chats(page, simulator, 2)
    chat_link(page, titles[0]).click()
    expect(chat_link(page, titles[0])).to_have_attribute("aria-current", "page")
    page.emulate_media(forced_colors="active")
    looks = chat_link(page, titles[0]).evaluate(
        """(open) => {
          const other = [...document.querySelectorAll('.history__open')].find((a) => a !== open);
          const look = (a) => { const s = getComputedStyle(a); return [s.backgroundColor, s.color, s.outlineStyle]; };
          return [look(open), look(other)];
        }"""
    )
    assert looks[0] != looks[1], f"the open chat looks like the others in forced colours: {looks}"


RECORD_LIVE_REGIONS = """
() => {
  window.spoken = [];
  const regions = [...document.querySelectorAll("[aria-live], [role=status], [role=alert]")];
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      const region = regions.find((r) => r === record.target || r.contains(record.target));
      if (region) window.spoken.push({ region: region.id, text: region.textContent });
    }
  });
  for (const region of regions) observer.observe(region, { childList: true, characterData: true, subtree: true });
}
"""


def test_an_answer_is_announced_once_when_complete_not_word_by_word(
    desktop: Page, simulator: ProviderSimulator
) -> None:
    page = desktop
    page.evaluate(RECORD_LIVE_REGIONS)
    simulator.state.script("groq", Scenario(tokens=120, token_delay_s=0.01))
    send(page, "Say something at length")

    # While it is written, the answer is marked busy and nothing is read out word by word
    live = page.locator(".message--live[data-phase='streaming']")
    expect(live).to_have_attribute("aria-busy", "true", timeout=ANSWER_TIMEOUT_MS)
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    answer = answers(page).locator(".message__text").inner_text().strip()
    expect(page.locator("#announcer")).to_contain_text(answer[:40])

    spoken: list[dict[str, str]] = page.evaluate("window.spoken")
    said = [s["text"] for s in spoken if s["region"] == "announcer" and s["text"].strip()]
    assert len(said) == 1, f"the announcer spoke {len(said)} times: {said[:5]}"
    assert said[0].startswith("Answer:"), said[0]
    # and the status line said a few short things, not one per word
    statuses = [s["text"] for s in spoken if s["region"] == "status"]
    assert len(statuses) <= 6, statuses
    expect(answers(page).last).not_to_have_attribute("aria-busy", "true")


def test_editing_a_question_by_keyboard_and_cancelling_gives_the_focus_back(desktop: Page) -> None:
    page = desktop
    prompt(page).focus()
    page.keyboard.type("A question to edit")
    page.keyboard.press("Enter")
    expect(answers(page).locator(".message__meta")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    edit = page.locator(".message--user").get_by_role("button", name="Edit")
    expect(edit).to_be_visible()
    edit.focus()
    page.keyboard.press("Enter")
    field = page.get_by_role("textbox", name="Edit your message")
    expect(field).to_be_focused()
    expect(field).to_have_value("A question to edit")
    page.keyboard.press("Escape")
    expect(field).to_have_count(0)
    expect(edit).to_be_focused()
    # Escape there cancelled the edit only: the conversation is as it was
    expect(answers(page)).to_have_count(1)


def test_on_a_phone_a_tap_beside_the_chat_list_closes_it_but_a_tap_in_its_dialogs_does_not(
    browser: Browser, live_server: str
) -> None:
    with contextlib.contextmanager(open_page)(browser, live_server, "phone", "light") as page:
        toggle = page.get_by_role("button", name="Chats")
        toggle.click()
        sidebar = page.locator("#sidebar")
        expect(sidebar).to_be_visible()
        expect(sidebar).to_have_attribute("role", "dialog")

        # A tap in the usage dialog opened from the list leaves the list open behind it
        page.get_by_role("button", name="Usage", exact=True).click()
        dialog = page.get_by_role("dialog", name="Usage, last 30 days")
        expect(dialog).to_be_visible()
        dialog.get_by_role("heading", name="Usage, last 30 days").click()
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Close").click()
        expect(sidebar).to_be_visible()
        expect(page.get_by_role("button", name="Usage", exact=True)).to_be_focused()

        # A tap on the dimmed chat beside the list closes it
        page.mouse.click(360, 400)
        expect(sidebar).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
