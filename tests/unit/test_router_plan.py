"""Model choice and the fallback chain."""

from __future__ import annotations

import pytest
from chimera.providers.router import auto_model, plan


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
    assert auto_model(message) == expected


def test_an_explicit_groq_model_falls_back_to_gemini() -> None:
    chain = plan("groq-llama-8b", "hi", {"groq", "gemini"})
    assert [m.key for m in chain] == ["groq-llama-8b", "gemini-flash"]


def test_an_explicit_gemini_model_falls_back_to_groq() -> None:
    chain = plan("gemini-flash", "hi", {"groq", "gemini"})
    assert [m.key for m in chain] == ["gemini-flash", "groq-llama-70b"]


def test_providers_without_a_key_are_left_out() -> None:
    assert [m.key for m in plan("auto", "hi", {"gemini"})] == ["gemini-flash"]
    assert plan("auto", "hi", set()) == []
