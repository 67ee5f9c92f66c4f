"""Which models a turn asks, in which order: ``auto``, budgets and the fallback chain."""

from __future__ import annotations

from collections import Counter
from random import Random

import pytest
from chimera.providers.base import PromptMessage
from chimera.providers.budget import BudgetCounts, budget
from chimera.providers.catalogue import load_catalogue
from chimera.providers.choose import ModelView, Weight, plan, weigh
from chimera.providers.health import ModelHealth

CATALOGUE = load_catalogue()
NOW = 1_800_000_000.0  # a fixed instant: nothing here reads a clock


def views(
    *, spent: dict[str, BudgetCounts] | None = None, resting: set[str] = frozenset(), providers: set[str] | None = None
) -> dict[str, ModelView]:
    """Every model's view: healthy and unspent unless told otherwise."""
    out = {}
    for spec in CATALOGUE.models:
        if providers is not None and spec.provider not in providers:
            continue
        health = ModelHealth(key=spec.health_key, cooldown_until=NOW + 30 if spec.key in resting else 0.0)
        counts = (spent or {}).get(spec.key, BudgetCounts())
        out[spec.key] = ModelView(spec, health, budget(spec.free_tier, counts, NOW), NOW)
    return out


def ask(text: str) -> Weight:
    return weigh([PromptMessage("system", "be brief"), PromptMessage("user", text)])


def keys(chain: list) -> list[str]:
    return [spec.key for spec in chain]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hi", "groq-llama-8b"),
        ("What is the capital of France?", "groq-llama-8b"),
        ("x" * 281, "groq-llama-70b"),
        ("one\ntwo\nthree\nfour", "groq-llama-70b"),
        ("fix this ```print(1)```", "groq-llama-70b"),
        ("Why is the sky blue?", "groq-llama-70b"),
        ("Compare merge sort and quicksort", "groq-llama-70b"),
    ],
)
def test_auto_sends_quick_questions_to_the_small_model_and_demanding_ones_to_the_large(
    message: str, expected: str
) -> None:
    assert plan(CATALOGUE, "auto", ask(message), views(), Random(1))[0].key == expected


def test_a_long_conversation_is_demanding_even_for_a_short_question() -> None:
    turns = [PromptMessage("user" if i % 2 else "assistant", "ok") for i in range(14)]
    assert weigh([PromptMessage("system", "s"), *turns, PromptMessage("user", "and?")]).demanding


def test_an_explicit_model_has_its_siblings_then_the_other_provider_behind_it() -> None:
    assert keys(plan(CATALOGUE, "groq-llama-8b", ask("hi"), views(), Random(1))) == [
        "groq-llama-8b",
        "groq-llama-70b",
        "gemini-flash",
    ]
    assert keys(plan(CATALOGUE, "gemini-flash", ask("hi"), views(), Random(1))) == [
        "gemini-flash",
        "groq-llama-70b",
    ]


def test_providers_without_a_key_are_left_out() -> None:
    assert keys(plan(CATALOGUE, "auto", ask("hi"), views(providers={"gemini"}), Random(1))) == ["gemini-flash"]
    assert plan(CATALOGUE, "auto", ask("hi"), views(providers=set()), Random(1)) == []


def test_auto_passes_over_a_resting_model() -> None:
    chain = plan(CATALOGUE, "auto", ask("hi"), views(resting={"groq-llama-8b"}), Random(1))
    assert chain[0].key != "groq-llama-8b"


def test_auto_passes_over_a_model_whose_minute_budget_cannot_take_the_request() -> None:
    minute = int(NOW // 60)
    spent = {"groq-llama-8b": BudgetCounts(minute=minute, minute_requests=30)}  # 30 RPM: all used
    chain = plan(CATALOGUE, "auto", ask("hi"), views(spent=spent), Random(1))
    assert chain[0].key != "groq-llama-8b"


def test_overflow_spreads_over_the_models_that_can_take_it_by_what_each_has_left() -> None:
    minute = int(NOW // 60)
    # The small model is out for this minute; the large one has a quarter of its tokens left, Gemini all.
    spent = {
        "groq-llama-8b": BudgetCounts(minute=minute, minute_requests=30),
        "groq-llama-70b": BudgetCounts(minute=minute, minute_tokens=6000),
    }
    rng = Random(7)
    firsts = Counter(plan(CATALOGUE, "auto", ask("hi"), views(spent=spent), rng)[0].key for _ in range(2000))
    assert set(firsts) == {"groq-llama-70b", "gemini-flash"}
    share = firsts["groq-llama-70b"] / 2000
    assert 0.15 < share < 0.35, f"about 0.25/(0.25+1) of the overflow should go to the large model, got {share}"


def test_a_request_larger_than_a_models_tokens_a_minute_is_too_large_for_it() -> None:
    huge = ask("word " * 40_000)  # about 50,000 tokens: over Groq's 8K a minute, within Gemini's window
    by_key = views()
    assert by_key["groq-llama-70b"].too_large(huge) and not by_key["gemini-flash"].too_large(huge)
    assert plan(CATALOGUE, "auto", huge, by_key, Random(1))[0].key == "gemini-flash"
