"""Whether to ask the same model again: a pure function of the error and the attempt."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from chimera.providers.base import FailureKind, ProviderError
from chimera.providers.retry_policy import retry_delay


@dataclass
class Settings:
    provider_attempts: int = 3
    retry_base_delay_s: float = 0.5
    max_retry_after_wait_s: float = 5.0


def error(kind: FailureKind, retry_after_s: float | None = None) -> ProviderError:
    return ProviderError(provider="groq", kind=kind, detail="x", retry_after_s=retry_after_s)


def top(low: float, high: float) -> float:
    return high  # the largest wait full jitter could pick


@pytest.mark.parametrize("kind", [FailureKind.UNAVAILABLE, FailureKind.TIMEOUT, FailureKind.BAD_RESPONSE])
def test_trouble_that_may_pass_is_retried_with_exponential_backoff(kind: FailureKind) -> None:
    waits = [retry_delay(error(kind), n, started=False, settings=Settings(), jitter=top) for n in range(3)]
    assert waits == [0.5, 1.0, None], "attempts double the wait, and stop at provider_attempts"


def test_a_short_rate_limit_is_waited_out_and_a_long_one_is_not() -> None:
    assert retry_delay(error(FailureKind.RATE_LIMITED, 2.0), 0, started=False, settings=Settings()) == 2.0
    assert retry_delay(error(FailureKind.RATE_LIMITED, 30.0), 0, started=False, settings=Settings()) is None
    assert retry_delay(error(FailureKind.RATE_LIMITED), 0, started=False, settings=Settings()) is None


@pytest.mark.parametrize("kind", [FailureKind.REJECTED, FailureKind.MODEL_GONE, FailureKind.TOO_LARGE])
def test_what_asking_again_cannot_fix_moves_on(kind: FailureKind) -> None:
    assert retry_delay(error(kind), 0, started=False, settings=Settings()) is None


def test_a_model_that_already_sent_text_is_not_asked_again() -> None:
    assert retry_delay(error(FailureKind.UNAVAILABLE), 0, started=True, settings=Settings()) is None
