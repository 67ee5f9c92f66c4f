"""Circuit-breaker transitions and the quota facts they read from headers."""

from __future__ import annotations

import pytest
from chimera.providers.base import FailureKind, ProviderError, QuotaReport
from chimera.providers.health import (
    DEFAULT_RATE_LIMIT_COOLDOWN_S,
    FAILURES_TO_OPEN,
    OPEN_COOLDOWN_S,
    PROBE_S,
    ModelHealth,
    after_failure,
    after_success,
    claim_probe,
)
from chimera.providers.quota_headers import parse_duration_s, parse_quota_headers, parse_retry_after

NOW = 1_000.0


def failure(kind: FailureKind, retry_after_s: float | None = None) -> ProviderError:
    return ProviderError(provider="groq", kind=kind, detail="x", retry_after_s=retry_after_s)


def test_a_rate_limit_rests_the_provider_for_its_retry_after() -> None:
    health = after_failure(ModelHealth("groq/m"), failure(FailureKind.RATE_LIMITED, 12), NOW)
    assert not health.available(NOW + 11.9)
    assert health.available(NOW + 12)
    assert health.retry_in_s(NOW + 2) == 10


def test_a_rate_limit_without_retry_after_uses_the_default() -> None:
    health = after_failure(ModelHealth("groq/m"), failure(FailureKind.RATE_LIMITED), NOW)
    assert health.cooldown_until == NOW + DEFAULT_RATE_LIMIT_COOLDOWN_S


def test_repeated_failures_open_the_circuit_and_success_closes_it() -> None:
    health = ModelHealth("groq/m")
    for _ in range(FAILURES_TO_OPEN - 1):
        health = after_failure(health, failure(FailureKind.UNAVAILABLE), NOW)
        assert health.available(NOW)
    health = after_failure(health, failure(FailureKind.UNAVAILABLE), NOW)
    assert not health.available(NOW) and health.available(NOW + OPEN_COOLDOWN_S)
    healed = after_success(health, None, NOW + OPEN_COOLDOWN_S)
    assert healed.consecutive_failures == 0 and healed.available(NOW)


def test_a_spent_budget_rests_the_provider_until_it_resets() -> None:
    quota = QuotaReport(remaining_requests=0, remaining_tokens=500, requests_reset_s=7.5, tokens_reset_s=1)
    health = after_success(ModelHealth("groq/m"), quota, NOW)
    assert not health.available(NOW + 7) and health.available(NOW + 7.5)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2m59.56s", 179.56), ("7.66s", 7.66), ("120ms", 0.12), ("1h", 3600.0), ("", None), ("soon", None)],
)
def test_go_durations(text: str, seconds: float | None) -> None:
    assert parse_duration_s(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_quota_headers() -> None:
    report = parse_quota_headers(
        {
            "x-ratelimit-remaining-requests": "14370",
            "x-ratelimit-remaining-tokens": "5990",
            "x-ratelimit-reset-requests": "2m59.56s",
            "x-ratelimit-reset-tokens": "7.66s",
        }
    )
    assert report == QuotaReport(14370, 5990, pytest.approx(179.56), pytest.approx(7.66))
    assert parse_quota_headers({}) is None
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None


def test_after_its_rest_a_circuit_is_half_open_and_one_probe_decides() -> None:
    opened = after_failure(ModelHealth("groq/m"), failure(FailureKind.RATE_LIMITED, 10), NOW)
    later = NOW + 11
    assert (opened.state(NOW), opened.state(later)) == ("open", "half-open")
    assert opened.available(later)  # free to be claimed

    probing = claim_probe(opened, later, "me")
    assert probing.probe_token == "me" and not probing.available(later)  # the others wait
    assert claim_probe(probing, later + 1, "you") == probing  # a second claim changes nothing

    assert after_success(probing, None, later + 2).state(later + 2) == "closed"
    reopened = after_failure(probing, failure(FailureKind.UNAVAILABLE), later + 2)
    assert reopened.state(later + 2) == "open"  # one failed probe is enough: it was already failing
    assert reopened.probe_token is None


def test_a_probe_that_never_reports_frees_the_circuit_for_another() -> None:
    opened = after_failure(ModelHealth("groq/m"), failure(FailureKind.RATE_LIMITED, 10), NOW)
    probing = claim_probe(opened, NOW + 11, "lost-instance")
    assert claim_probe(probing, NOW + 11 + PROBE_S, "next").probe_token == "next"
