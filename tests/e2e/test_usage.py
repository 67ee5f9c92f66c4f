"""Usage you can see: one click opens tokens and cost per day over the last 30 days, as a chart with
the same numbers in words and a table, and per model.

The usage rows are written straight into ai_usage (as the chat route writes them), on days the test
chooses, for the page's local person.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LOCAL_USER

pytestmark = pytest.mark.e2e

# (days ago, model, input tokens, output tokens, cost in cents)
ROWS = [
    (0, "groq-llama-8b", 120, 880, 0.25),
    (0, "gemini-flash", 40, 460, 0.5),
    (3, "groq-llama-8b", 300, 2_700, 1.5),
    (12, "gemini-flash", 1_000, 11_000, 250.0),
    (40, "gemini-flash", 5_000, 5_000, 999.0),  # older than 30 days: not counted
]


def seed_usage(db: psycopg.Connection[tuple[Any, ...]]) -> None:
    now = datetime.now(UTC)
    for i, (days_ago, model, tokens_in, tokens_out, cents) in enumerate(ROWS):
        db.execute(
            "insert into ai_usage (id, user_id, provider, model, input_tokens, output_tokens, tokens_used,"
            " cost_cents, created_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                f"usage-{i}",
                LOCAL_USER,
                model.split("-")[0],
                model,
                tokens_in,
                tokens_out,
                tokens_in + tokens_out,
                cents,
                now - timedelta(days=days_ago),
            ),
        )


def day_label(days_ago: int) -> str:
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    return f"{day:%a}, {day:%b} {day.day}"


def test_usage_per_day_and_per_model_in_one_click(page: Page, db: psycopg.Connection[tuple[Any, ...]]) -> None:
    seed_usage(db)
    opener = page.get_by_role("button", name="Usage", exact=True)

    # When the person clicks Usage, once
    opener.click()

    # Then a dialog shows the last 30 days' totals
    dialog = page.get_by_role("dialog", name="Usage, last 30 days")
    expect(dialog).to_be_visible()
    totals = dialog.locator(".usage__totals")
    expect(totals).to_contain_text("Answers4")
    expect(totals).to_contain_text("Tokens16,500")
    expect(totals).to_contain_text("Cost$2.52")

    # And a chart of tokens per day: 30 days, a bar of some height on the three days with use
    tokens_chart = dialog.get_by_role("figure", name="Tokens per day")
    expect(tokens_chart).to_be_visible()
    bars = tokens_chart.locator("svg rect.usage__bar")
    expect(bars).to_have_count(30)
    heights = bars.evaluate_all("(bars) => bars.map((bar) => bar.getBoundingClientRect().height)")
    assert [i for i, h in enumerate(heights) if h > 0] == [30 - 1 - 12, 30 - 1 - 3, 30 - 1]
    assert heights[30 - 1 - 12] == max(heights), "the busiest day has the tallest bar"
    expect(bars.nth(29).locator("title")).to_have_text(f"{day_label(0)}: 1,500 tokens")
    # and of cost per day
    expect(dialog.get_by_role("figure", name="Cost per day")).to_be_visible()

    # And the chart says what it shows in words, and its numbers are in a table
    expect(tokens_chart).to_contain_text(f"3 of 30 days with use; the most, 12,000 tokens, on {day_label(12)}.")
    dialog.get_by_text("Show the numbers per day").click()
    days = dialog.get_by_role("table", name="Tokens and cost per day")
    expect(days).to_be_visible()
    expect(days.get_by_role("row")).to_have_count(4)  # a header and three days
    expect(days.get_by_role("row", name=day_label(3))).to_contain_text("3,000")
    expect(days.get_by_role("row", name=day_label(3))).to_contain_text("$0.015")
    expect(days.get_by_role("row", name=day_label(12))).to_contain_text("$2.50")

    # And per model, the most used first
    models = dialog.get_by_role("region", name="By model").get_by_role("row")
    expect(models).to_have_count(3)
    expect(models.nth(1)).to_contain_text("12,500")
    expect(models.nth(2)).to_contain_text("4,000")

    # And Escape closes it and gives the focus back to the Usage button
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def test_usage_with_nothing_used_says_so(page: Page, db: psycopg.Connection[tuple[Any, ...]]) -> None:
    page.get_by_role("button", name="Usage", exact=True).click()
    dialog = page.get_by_role("dialog", name="Usage, last 30 days")
    expect(dialog).to_contain_text("No answers in the last 30 days.")
    expect(dialog.locator("svg")).to_have_count(0)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Usage", exact=True)).to_be_focused()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_chart_follows_the_colour_scheme_and_forced_colours(
    page: Page, db: psycopg.Connection[tuple[Any, ...]], scheme: str
) -> None:
    seed_usage(db)
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.get_by_role("button", name="Usage", exact=True).click()
    bar = page.get_by_role("figure", name="Tokens per day").locator("rect.usage__bar").last
    expect(bar).to_be_visible()
    colours = page.evaluate(
        """(bar) => ({
          fill: getComputedStyle(bar).fill,
          background: getComputedStyle(bar.closest('dialog')).backgroundColor,
        })""",
        bar.element_handle(),
    )
    assert colours["fill"] != colours["background"], colours

    # In forced colours (Windows High Contrast) the bars are drawn in the text colour
    page.emulate_media(color_scheme=scheme, forced_colors="active")  # type: ignore[arg-type]
    forced = page.evaluate(
        """(bar) => [getComputedStyle(bar).fill, getComputedStyle(bar.closest('dialog')).color]""",
        bar.element_handle(),
    )
    assert forced[0] == forced[1], forced
