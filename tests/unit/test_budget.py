"""Free-tier budgets: what is left of each limit, the provider's word, and when it comes back."""

from __future__ import annotations

import asyncio

import pytest
from chimera.providers.base import FailureKind, ProviderError, QuotaReport
from chimera.providers.bookkeeping import ModelBook
from chimera.providers.budget import BudgetCounts, budget, minute_of
from chimera.providers.catalogue import FreeTier, load_catalogue
from chimera.providers.choose import Weight
from chimera.store.memory import MemoryBudgetStore, MemoryHealthStore

TIER = FreeTier(rpm=30, rpd=1000, tpm=8000, tpd=200_000)
NOW = 1_800_000_030.0  # 30 s into a minute


def test_an_unspent_model_has_all_its_budget() -> None:
    left = budget(TIER, BudgetCounts(), NOW)
    assert (left.requests_minute, left.tokens_minute, left.requests_day, left.tokens_day) == (30, 8000, 1000, 200_000)
    assert left.headroom == 1.0 and left.fits(8000) and not left.fits(8001)


def test_spending_counts_against_the_minute_and_the_day() -> None:
    counts = BudgetCounts().plus(requests=3, tokens=6000, now=NOW)
    left = budget(TIER, counts, NOW)
    assert (left.requests_minute, left.tokens_minute, left.requests_day) == (27, 2000, 997)
    assert left.headroom == 0.25
    assert left.fits(2000) and not left.fits(2001)
    assert left.wait_s(2001) == 30.0, "a request too big for this minute waits for the next"


def test_a_new_minute_refills_the_minute_but_not_the_day() -> None:
    counts = BudgetCounts().plus(requests=30, tokens=100, now=NOW)
    assert not budget(TIER, counts, NOW).fits(1)
    later = budget(TIER, counts, NOW + 30)
    assert later.requests_minute == 30 and later.requests_day == 970


def test_a_spent_day_waits_until_midnight_utc() -> None:
    counts = BudgetCounts().plus(requests=1000, tokens=0, now=NOW)
    left = budget(TIER, counts, NOW)
    assert not left.fits(1)
    assert left.wait_s(1) == 86_400 - NOW % 86_400


def test_the_providers_fresher_word_wins_while_it_is_valid() -> None:
    # Groq: 12 requests left today (other apps on the key used the rest), tokens reset in 2m59.56s.
    report = QuotaReport(remaining_requests=12, remaining_tokens=500, requests_reset_s=600.0, tokens_reset_s=179.56)
    counts = BudgetCounts().reported(report, NOW)
    left = budget(TIER, counts, NOW)
    assert (left.requests_day, left.tokens_minute) == (12, 500)
    assert not left.fits(501) and left.wait_s(501) == pytest.approx(179.56)
    # Once the reset has passed, the report says nothing any more.
    assert budget(TIER, counts, NOW + 700).requests_day == 1000


def test_a_model_without_published_limits_always_fits() -> None:
    left = budget(FreeTier(), BudgetCounts().plus(requests=10**6, tokens=10**9, now=NOW), NOW)
    assert left.fits(10**6) and left.headroom == 1.0


def test_minutes_are_epoch_minutes() -> None:
    assert minute_of(59.9) == 0 and minute_of(60.0) == 1


def test_the_quota_facts_of_a_groq_429_spend_the_models_budget_for_every_later_turn() -> None:
    catalogue = load_catalogue()
    small = catalogue.spec("groq-llama-8b")
    clock = lambda: NOW  # noqa: E731
    book = ModelBook(
        catalogue=catalogue,
        providers={"groq", "gemini"},
        health=MemoryHealthStore(),
        budgets=MemoryBudgetStore(clock=clock),
        clock=clock,
    )
    weight = Weight(input_tokens=100, output_tokens=300, demanding=False)
    # Groq's 429 for requests a day: remaining-requests 0, resetting in 2h.
    report = QuotaReport(remaining_requests=0, remaining_tokens=None, requests_reset_s=7200.0, tokens_reset_s=None)
    error = ProviderError(provider="groq", kind=FailureKind.RATE_LIMITED, detail="RPD", status=429, quota=report)

    async def scene() -> None:
        book.begin(small, weight)
        await book.failed(small, weight, error, spent=None)
        view = (await book.views())["groq-llama-8b"]
        assert not view.budget.fits(weight.tokens)
        assert view.budget.wait_s(weight.tokens) == 7200.0
        assert (await book.views())["groq-llama-70b"].budget.fits(weight.tokens), "the sibling keeps its own"

    asyncio.run(scene())
