"""The browser for the e2e tests: one headless Chromium per module, a fresh context per test."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright

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


PAGE = Path(__file__).resolve().parents[2] / "frontend"


@pytest.fixture(scope="session", autouse=True)
def built_page() -> Path:
    """The page as `make install` builds it; built here when missing or older than its sources,
    so `pytest tests/e2e` alone tests what the sources say."""
    built = PAGE / "dist" / "index.html"
    sources = [PAGE / "index.html", PAGE / "build.mjs", PAGE / "package-lock.json", *(PAGE / "src").rglob("*")]
    if not built.exists() or max(f.stat().st_mtime for f in sources) > built.stat().st_mtime:
        if not (PAGE / "node_modules" / ".package-lock.json").exists():
            subprocess.run(["npm", "ci", "--prefix", str(PAGE)], check=True, capture_output=True)
        subprocess.run(["npm", "run", "--silent", "build", "--prefix", str(PAGE)], check=True, capture_output=True)
    return built.parent


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
