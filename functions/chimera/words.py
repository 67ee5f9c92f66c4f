"""Numbers in the words a person reads: "1 second", "12 seconds", "about 5 minutes".

Every sentence about a limited or failed turn counts and waits through here, so none says
"about 1 seconds".
"""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural when it must be: "1 message", "20,000 tokens"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def wait(seconds: float) -> str:
    """A wait as a person would say it: "1 second", "40 seconds", "about 5 minutes", "about 2 hours"."""
    whole = max(1, round(seconds))
    if whole >= 90 * 60:
        return f"about {count(round(whole / 3600), 'hour')}"
    if whole >= 90:
        return f"about {count(round(whole / 60), 'minute')}"
    return count(whole, "second")
