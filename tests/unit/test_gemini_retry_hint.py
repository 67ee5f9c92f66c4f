"""How long Gemini says to wait after a 429, from the bodies it really sends (the simulator's)."""

from __future__ import annotations

from datetime import UTC, datetime

from chimera.dev.simulator.gemini import quota_exceeded_body
from chimera.providers.gemini_provider import retry_hint_s

MODEL = "gemini-3.8-flash"


def test_retry_info_says_how_long() -> None:
    body = quota_exceeded_body(MODEL, "rpm", 33, retry_info=True)
    assert retry_hint_s(body, body["error"]["message"]) == 33.0


def test_without_retry_info_the_message_text_says_it() -> None:
    body = quota_exceeded_body(MODEL, "tpm", 7.5, retry_info=False)
    assert "Please retry in 7.5s." in body["error"]["message"]
    assert retry_hint_s(body, body["error"]["message"]) == 7.5


def test_a_spent_daily_quota_with_no_hint_waits_for_midnight_pacific() -> None:
    body = quota_exceeded_body(MODEL, "rpd", 1, retry_info=False)
    message = "You exceeded your current quota."  # no "Please retry in"
    now = datetime(2026, 11, 25, 20, 0, tzinfo=UTC).timestamp()  # 12:00 in Los Angeles (PST, UTC-8)
    assert retry_hint_s(body, message, now=now) == 12 * 3600


def test_a_429_that_says_nothing_gives_no_hint() -> None:
    assert retry_hint_s({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, "Resource exhausted.") is None
