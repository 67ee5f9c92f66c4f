"""The browser for the e2e tests (one headless Chromium per module, a fresh context per test) and their app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chimera.dev.simulator import ProviderSimulator
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from tests.conftest import make_settings
from tests.e2e.helpers import PATIENT_DEADLINES
from tests.support.page import built_page
from tests.support.servers import AppServer

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session", autouse=True)
def page_files() -> Path:
    """The built page the app serves (tests/support/page.py)."""
    return built_page()


@pytest.fixture(scope="session")
def app_server(database_url: str, simulator: ProviderSimulator) -> Iterator[AppServer]:
    """The app the page talks to, with deadlines a busy machine cannot miss (helpers.PATIENT_DEADLINES)."""
    with AppServer(make_settings(database_url, simulator, **PATIENT_DEADLINES)) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.goto("/")
    expect(page.locator("html[data-ready]")).to_be_attached()  # the page's script has wired it up
    yield page
    page.unroute_all(behavior="ignoreErrors")
    context.close()
    assert script_errors == [], "the page threw uncaught errors"


@pytest.fixture
def chat_bodies(page: Page) -> list[dict[str, Any]]:
    """The JSON body of every POST /api/chat the page sends, in order."""
    bodies: list[dict[str, Any]] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/chat"):
            body: dict[str, Any] = request.post_data_json or {}
            bodies.append(body)

    page.on("request", on_request)
    return bodies
