"""Reading the rate-limit facts providers put in response headers."""

from __future__ import annotations

import re
from collections.abc import Mapping

from chimera.providers.base import QuotaReport

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration_s(text: str) -> float | None:
    """Groq writes resets as Go durations: "2m59.56s", "7.66s", "120ms"."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare enough that the router's own backoff is good enough


def parse_quota_headers(headers: Mapping[str, str]) -> QuotaReport | None:
    remaining_requests = headers.get("x-ratelimit-remaining-requests")
    remaining_tokens = headers.get("x-ratelimit-remaining-tokens")
    if remaining_requests is None and remaining_tokens is None:
        return None
    try:
        return QuotaReport(
            remaining_requests=int(remaining_requests) if remaining_requests is not None else None,
            remaining_tokens=int(remaining_tokens) if remaining_tokens is not None else None,
            requests_reset_s=parse_duration_s(headers.get("x-ratelimit-reset-requests", "")),
            tokens_reset_s=parse_duration_s(headers.get("x-ratelimit-reset-tokens", "")),
        )
    except ValueError:
        return None
