"""Every sentence a person reads about a limited, refused or failed turn, in one place.

Written for people: what happened, and what to do ("Please wait 12 seconds; your text is kept.");
numbers as a person says them ("1 second", "about 5 minutes", never "about 1 seconds").
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


def listing(names: list[str]) -> str:
    """ "A", "A and B", "A, B and C"; each name once."""
    unique = list(dict.fromkeys(names))
    return unique[0] if len(unique) == 1 else f"{', '.join(unique[:-1])} and {unique[-1]}"


def retry_when(seconds: float | None) -> str:
    return f"in {wait(seconds)}" if seconds else "in a moment"


# --- A turn no model could answer (chimera.providers.router) -------------------------------------

# What happened to one model, after its label: "Groq fast is at its rate limit".
MODEL_FAILURES = {
    "rate_limited": "is at its rate limit",
    "unavailable": "is unavailable",
    "timeout": "did not answer in time",
    "bad_response": "sent a broken answer",
    "rejected": "refused the request",
    "model_gone": "is no longer offered by its provider",
    "too_large": "cannot take a conversation this long",
}
RESTING = "is resting after errors or rate limits"


def model_failed(label: str, kind: str) -> str:
    return f"{label} {MODEL_FAILURES[kind]}"


def model_resting(label: str, *, gone: bool) -> str:
    return f"{label} {MODEL_FAILURES['model_gone'] if gone else RESTING}"


def all_at_free_tier_limits(retry_in_s: float | None) -> str:
    return f"The AI providers are at their free-tier limits right now. Please try again {retry_when(retry_in_s)}."


def too_long_for(labels: list[str]) -> str:
    return f"This conversation is too long for {listing(labels)}. Please start a new chat, or send a shorter message."


def no_model_answered(reasons: list[str], retry_in_s: float | None) -> str:
    return f"No AI model could answer ({'; '.join(reasons)}). Please try again {retry_when(retry_in_s)}."


# --- A turn that broke on our side (chimera.chat.service) ----------------------------------------

NOT_SAVED = "Your conversation could not be saved: the database is not reachable. Please try again."
WENT_WRONG = "Something went wrong on our side while answering. Please try again."
NO_PROVIDER = "No AI provider is configured on this server."


# --- Refused before answering (chimera.api.problems) ---------------------------------------------

STILL_ANSWERING = (
    "This conversation is still answering your last message. Wait for the answer (or stop it), "
    "then send again; your text is kept."
)


def messages_limit(scope: str, limit: int, seconds: int) -> str:
    who = "You have" if scope == "person" else "Your network has"
    return (
        f"{who} sent {count(limit, 'message')} in the last minute. "
        f"Please wait {count(seconds, 'second')}; your text is kept."
    )


def tokens_limit(limit: int, seconds: int) -> str:
    return (
        f"You have used today's {count(limit, 'token')}. They renew at midnight UTC, in {wait(seconds)}; "
        "your text is kept."
    )
