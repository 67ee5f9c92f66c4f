"""Model choice and the fallback chain, read from the catalogue."""

from __future__ import annotations

import pytest
from chimera.providers.catalogue import load_catalogue
from chimera.providers.router import auto_model, plan

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hi", "groq-llama-8b"),
        ("What is the capital of France?", "groq-llama-8b"),
        ("x" * 281, "groq-llama-70b"),
        ("one\ntwo\nthree\nfour", "groq-llama-70b"),
        ("fix this ```print(1)```", "groq-llama-70b"),
    ],
)
def test_auto_picks_the_small_model_for_short_plain_questions(message: str, expected: str) -> None:
    assert auto_model(CATALOGUE, message) == expected


def test_an_explicit_groq_model_has_its_sibling_then_gemini_behind_it() -> None:
    chain = plan(CATALOGUE, "groq-llama-8b", "hi", {"groq", "gemini"})
    # The sibling (Groq's large model) is asked only when the small one is gone (Router.stream).
    assert [m.key for m in chain] == ["groq-llama-8b", "groq-llama-70b", "gemini-flash"]


def test_the_fallback_model_itself_falls_back_to_the_other_provider() -> None:
    assert [m.key for m in plan(CATALOGUE, "groq-llama-70b", "hi", {"groq", "gemini"})] == [
        "groq-llama-70b",
        "gemini-flash",
    ]


def test_an_explicit_gemini_model_falls_back_to_groq() -> None:
    chain = plan(CATALOGUE, "gemini-flash", "hi", {"groq", "gemini"})
    assert [m.key for m in chain] == ["gemini-flash", "groq-llama-70b"]


def test_providers_without_a_key_are_left_out() -> None:
    assert [m.key for m in plan(CATALOGUE, "auto", "hi", {"gemini"})] == ["gemini-flash"]
    assert plan(CATALOGUE, "auto", "hi", set()) == []
