"""Every sentence a person reads about a limited, refused or failed request, in one place.

Grouped by where they are read: a turn no model could answer, a turn that broke on our side, a
request refused before answering (409, 429), signing in (401), any other refused request (400,
403, 404, 405, 413, 422, 500, 503) and a function not configured yet (503). Log lines are for
operators and stay where they are written.

Written for people: what happened, then what to do, in a clause with "Please" ("Please wait 12
seconds; your text is kept."); numbers as a person says them ("1 second", "about 5 minutes", never
"about 1 seconds"). A problem's title is a short name without a full stop.
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


def listing(names: list[str], last: str = "and") -> str:
    """ "A", "A and B", "A, B and C" (or with ``last="or"``: "A, B or C"); each name once."""
    unique = list(dict.fromkeys(names))
    return unique[0] if len(unique) == 1 else f"{', '.join(unique[:-1])} {last} {unique[-1]}"


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
SPENT = "has used its free-tier allowance for now"


def model_failed(label: str, kind: str) -> str:
    return f"{label} {MODEL_FAILURES[kind]}"


def model_resting(label: str, *, gone: bool, spent: bool = False) -> str:
    """A model passed over without asking it: retired, out of its free-tier budget, or resting."""
    return f"{label} {MODEL_FAILURES['model_gone'] if gone else SPENT if spent else RESTING}"


def all_at_free_tier_limits(retry_in_s: float | None) -> str:
    return f"The AI providers are at their free-tier limits right now. Please try again {retry_when(retry_in_s)}."


def too_long_for(labels: list[str]) -> str:
    return f"This conversation is too long for {listing(labels)}. Please start a new chat, or send a shorter message."


def no_model_answered(reasons: list[str], retry_in_s: float | None, *, all_retired: bool = False) -> str:
    if all_retired:  # waiting will not help: the catalogue names models the providers no longer serve
        return (
            f"No AI model could answer ({'; '.join(reasons)}). Please tell whoever runs this Chimera "
            "to update its model catalogue."
        )
    return f"No AI model could answer ({'; '.join(reasons)}). Please try again {retry_when(retry_in_s)}."


# --- A turn that broke on our side (chimera.chat.service) ----------------------------------------

NO_ANSWER = "No AI model could answer this message. Please send it again in a moment."
ANSWER_INTERRUPTED = (
    "This answer was interrupted before it finished; what it had said so far is kept. Please send "
    "your message again for a complete answer."
)
NOT_SAVED = "Your conversation could not be saved: the database is not reachable. Please try again."
WENT_WRONG = "Something went wrong on our side while answering. Please try again."
NO_PROVIDER = "No AI provider is configured on this server. Please ask whoever runs it to add a provider key."


# --- Refused before answering (chimera.api.problems) ---------------------------------------------

STILL_ANSWERING_TITLE = "Still answering"
STILL_ANSWERING = (
    "This conversation is still answering your last message. Please wait for the answer (or stop it), "
    "then send again; your text is kept."
)
NOTHING_TO_REGENERATE_TITLE = "Nothing to regenerate"
NOTHING_TO_REGENERATE = "This conversation has no answer to regenerate yet. Please send a message first."
MESSAGES_LIMIT_TITLE = "Too many messages"
TOKENS_LIMIT_TITLE = "Daily limit reached"


def messages_limit(scope: str, limit: int, seconds: int) -> str:
    who = "You have" if scope == "person" else "Your network has"
    return (
        f"{who} sent {count(limit, 'message')} in the last minute. "
        f"Please wait {count(seconds, 'second')}; your text is kept."
    )


def tokens_limit(limit: int, seconds: int) -> str:
    return (
        f"You have used today's {count(limit, 'token')}. They renew at midnight UTC, in {wait(seconds)}. "
        "Please wait until then; your text is kept."
    )


# --- Signing in (chimera.auth, chimera.api.deps): 401, and 503 when the keys cannot be had ---------
# The 401 sentences also go into the WWW-Authenticate header (RFC 6750 error_description), so they
# stay plain ASCII without double quotes; the one for a missing token never goes there.

NOT_SIGNED_IN_TITLE = "Not signed in"
TOKEN_MISSING = "Please sign in: this request needs an access token (Authorization: Bearer …)."
TOKEN_MALFORMED = "The access token cannot be read. Please sign in again."
TOKEN_ALGORITHM = "Access tokens signed with this algorithm are not accepted here. Please sign in again on this site."
TOKEN_UNKNOWN_KEY = "The access token was signed by a key this server does not know. Please sign in again."
TOKEN_EXPIRED = "The access token has expired. Please sign in again."
TOKEN_WRONG_AUDIENCE = "The access token is not meant for this service. Please sign in again on this site."
TOKEN_INVALID = "The access token is not valid. Please sign in again."
TOKEN_NO_USER = "The access token names no user. Please sign in again."

UNAVAILABLE_TITLE = "Temporarily unavailable"
SIGN_IN_KEYS_UNAVAILABLE = (
    "Sign-in cannot be checked right now: the sign-in keys could not be fetched. Please try again."
)


# --- Refused requests (chimera.api.problems and the routes) -------------------------------------

NOT_VALID_TITLE = "The request is not valid"
NOT_FOUND_TITLE = "Not found"
NOT_ALLOWED_TITLE = "Method not allowed"
TOO_LARGE_TITLE = "Request too large"
FORBIDDEN_TITLE = "Forbidden"
BAD_CURSOR_TITLE = "Bad cursor"
WENT_WRONG_TITLE = "Something went wrong"
NOT_READY_TITLE = "Not ready"

CONVERSATION_NOT_FOUND = (
    "That conversation does not exist, or it is not yours. Please pick one from your list, or start a new chat."
)
BAD_CURSOR = "The cursor is not one this API gave out. Please start again from the first page."
BODY_NOT_JSON = "Please fix: the body is not valid JSON (UTF-8)."
NOT_THROUGH_SITE = "This API is served only through the site's own address. Please use that address."
DATABASE_DOWN = "The database is not reachable right now. Please try again in a moment."
DATABASE_NOT_YET = "The database is not reachable yet. Please try again in a moment."
SERVER_FAULT = "Something went wrong on our side. Please try again."
NOT_HANDLED = "The request could not be handled. Please try again."

# How a field is wrong, after its name ("message is required"), for pydantic's error types.
FIELD_FAULTS = {
    "missing": "is required",
    "string_too_short": "must not be empty",
    "string_type": "must be text",
    "json_invalid": "is not valid JSON",
}
FIELD_NOT_VALID = "is not valid"


def field_too_long(max_length: object) -> str:
    return f"is too long: at most {max_length} characters"


def field_one_of(expected: object) -> str:
    return f"must be one of {expected}"


def fix_fields(faults: list[str]) -> str:
    """The 422 sentence from each field's fault: "Please fix: message is required; model must be …"."""
    return f"Please fix: {'; '.join(faults)}."


def no_route(path: str) -> str:
    return f"There is no API route {path}. Please check the address; /api/docs lists every route."


def method_not_allowed(path: str, method: str, allowed: list[str]) -> str:
    return f"The API route {path} does not answer {method}. Please use {listing(allowed, 'or')}."


def body_too_large(max_kb: int) -> str:
    return f"The request body is larger than {max_kb:,} KB. Please send a shorter message."


def days_out_of_range(earliest: object, latest: object) -> str:
    return f"Those days are out of range. Please ask for days between {earliest} and {latest}."


DAYS_REVERSED = "The first day (from) is after the last day (to). Please swap them."


def too_many_days(most: int) -> str:
    return f"That is too many days for one report. Please ask for at most {count(most, 'day')} at a time."


# --- Not configured yet (chimera.secrets, chimera.settings): 503 until a secret is filled in -------
# Read by whoever deploys: each names the variable and where it goes.

NOT_CONFIGURED_TITLE = "Not configured yet"


def secret_not_an_object(name: str) -> str:
    return f'The secret {name} is not a JSON object. Please put {{"KEY": "value"}} pairs in it.'


def secret_unreadable(name: str, error: str) -> str:
    return (
        f"The secret {name} could not be read ({error}). "
        "Please check that it exists and that this function may read it."
    )


def put_in(secrets: list[str]) -> str:
    """Where a missing value goes: "in the secret a", "in one of the secrets a or b", "in the environment"."""
    if not secrets:
        return "in the environment"
    return f"in the secret {secrets[0]}" if len(secrets) == 1 else f"in one of the secrets {listing(secrets, 'or')}"


def database_url_missing(where: str) -> str:
    return f"The database URL is not set. Please put DATABASE_URL {where}."


def sign_in_missing(where: str) -> str:
    return f"Sign-in is not configured. Please put SUPABASE_JWT_SECRET or SUPABASE_URL {where}."


def provider_keys_missing(where: str) -> str:
    return f"The provider keys are not set. Please put GROQ_API_KEY and/or GOOGLE_GENERATIVE_AI_API_KEY {where}."
