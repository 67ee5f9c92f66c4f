"""Whether to ask the same model again after an error, and after how long: a pure function.

The SDKs' own retries are off (``max_retries=0``, one google-genai attempt), so this is the only
retry policy. A model that already sent text is never asked again: the next model continues.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from chimera.providers.base import RETRYABLE, FailureKind, ProviderError


class RetrySettings(Protocol):
    provider_attempts: int
    retry_base_delay_s: float
    max_retry_after_wait_s: float


def retry_delay(
    error: ProviderError,
    attempt: int,
    *,
    started: bool,
    settings: RetrySettings,
    jitter: Callable[[float, float], float] = random.uniform,
) -> float | None:
    """Seconds to wait before asking the same model again; None to move on to the next model.

    ``attempt`` counts from 0. A 429 is waited out only when the provider's wait is short; an
    outage, a timeout or a broken stream is retried with exponential backoff and full jitter, so
    instances that failed together retry apart; anything else will not get better by asking again.
    """
    if started or attempt + 1 >= settings.provider_attempts:
        return None
    if error.kind == FailureKind.RATE_LIMITED:
        wait = error.retry_after_s
        return wait if wait is not None and wait <= settings.max_retry_after_wait_s else None
    if error.kind in RETRYABLE:
        return jitter(0, settings.retry_base_delay_s * 2**attempt)
    return None
