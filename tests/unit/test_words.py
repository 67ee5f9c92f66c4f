"""The sentences a person reads: numbers as a person says them, and each one says what to do.

Every public sentence of ``chimera.words`` is listed in ``SENTENCES`` (a new one without an entry
fails the completeness test), so the habits below are checked on all of them.
"""

from __future__ import annotations

import inspect
import re

import pytest
from chimera import words
from chimera.api.body_limit import BodyLimitMiddleware
from chimera.api.problems import install_problem_handlers
from chimera.auth import AuthUnavailable
from chimera.errors import ConversationNotFound, InvalidCursor
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

# --- Numbers as a person says them ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "noun", "said"),
    [(1, "second", "1 second"), (2, "second", "2 seconds"), (0, "second", "0 seconds"),
     (1, "message", "1 message"), (2, "message", "2 messages"), (20_000, "token", "20,000 tokens"),
     (1, "day", "1 day"), (366, "day", "366 days")],
)  # fmt: skip
def test_counts_are_plural_only_when_they_must_be(n: int, noun: str, said: str) -> None:
    assert words.count(n, noun) == said


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "1 second"), (0.4, "1 second"), (1, "1 second"), (1.6, "2 seconds"), (2, "2 seconds"),
     (89, "89 seconds"), (90, "about 2 minutes"), (300, "about 5 minutes"), (89 * 60, "about 89 minutes"),
     (90 * 60, "about 2 hours"), (5 * 3600 - 100, "about 5 hours")],
)  # fmt: skip
def test_waits_read_as_a_person_says_them(seconds: float, said: str) -> None:
    assert words.wait(seconds) == said


def test_no_wait_up_to_a_day_reads_one_seconds_or_about_some_seconds() -> None:
    said = {words.wait(seconds) for seconds in range(0, 86_400 + 1, 5)} | {words.wait(s / 10) for s in range(0, 30)}

    assert not [w for w in said if re.search(r"\b1 \w+s\b", w)]
    assert not [w for w in said if w.startswith("about") and "second" in w]
    assert not [w for w in said if not w.startswith("about") and "second" not in w]


@pytest.mark.parametrize(
    ("names", "last", "said"),
    [(["A"], "and", "A"), (["A", "B"], "and", "A and B"), (["A", "B", "A", "C"], "and", "A, B and C"),
     (["GET", "PATCH", "DELETE"], "or", "GET, PATCH or DELETE")],
)  # fmt: skip
def test_listings_name_each_once(names: list[str], last: str, said: str) -> None:
    assert words.listing(names, last) == said


def test_a_missing_value_is_put_in_the_secret_that_owns_it_or_the_environment() -> None:
    assert words.put_in([]) == "in the environment"
    assert words.put_in(["chimera/dev/app"]) == "in the secret chimera/dev/app"
    assert words.put_in(["a", "b", "c"]) == "in one of the secrets a, b or c"


# --- Every public sentence ------------------------------------------------------------------------

# Each public sentence of chimera.words, functions called with typical values (and with a 1 where
# a number can be 1, so "1 seconds" would show).
SENTENCES: dict[str, list[str]] = {
    "NOT_SAVED": [words.NOT_SAVED],
    "ANSWER_INTERRUPTED": [words.ANSWER_INTERRUPTED],
    "NO_ANSWER": [words.NO_ANSWER],
    "NOTHING_TO_REGENERATE": [words.NOTHING_TO_REGENERATE],
    "WENT_WRONG": [words.WENT_WRONG],
    "NO_PROVIDER": [words.NO_PROVIDER],
    "STILL_ANSWERING": [words.STILL_ANSWERING],
    "TOKEN_MISSING": [words.TOKEN_MISSING],
    "TOKEN_MALFORMED": [words.TOKEN_MALFORMED],
    "TOKEN_ALGORITHM": [words.TOKEN_ALGORITHM],
    "TOKEN_UNKNOWN_KEY": [words.TOKEN_UNKNOWN_KEY],
    "TOKEN_EXPIRED": [words.TOKEN_EXPIRED],
    "TOKEN_WRONG_AUDIENCE": [words.TOKEN_WRONG_AUDIENCE],
    "TOKEN_INVALID": [words.TOKEN_INVALID],
    "TOKEN_NO_USER": [words.TOKEN_NO_USER],
    "SIGN_IN_KEYS_UNAVAILABLE": [words.SIGN_IN_KEYS_UNAVAILABLE],
    "CONVERSATION_NOT_FOUND": [words.CONVERSATION_NOT_FOUND],
    "BAD_CURSOR": [words.BAD_CURSOR],
    "BODY_NOT_JSON": [words.BODY_NOT_JSON],
    "NOT_THROUGH_SITE": [words.NOT_THROUGH_SITE],
    "DATABASE_DOWN": [words.DATABASE_DOWN],
    "DATABASE_NOT_YET": [words.DATABASE_NOT_YET],
    "SERVER_FAULT": [words.SERVER_FAULT],
    "NOT_HANDLED": [words.NOT_HANDLED],
    "DAYS_REVERSED": [words.DAYS_REVERSED],
    "all_at_free_tier_limits": [words.all_at_free_tier_limits(None), words.all_at_free_tier_limits(1)],
    "too_long_for": [words.too_long_for(["Groq fast"]), words.too_long_for(["Groq large", "Gemini Flash"])],
    "no_model_answered": [
        words.no_model_answered(["Groq fast is unavailable"], 1),
        words.no_model_answered(["Groq fast is no longer offered by its provider"], None, all_retired=True),
    ],
    "messages_limit": [words.messages_limit("person", 1, 1), words.messages_limit("address", 60, 30)],
    "tokens_limit": [words.tokens_limit(1, 1), words.tokens_limit(100_000, 5 * 3600)],
    "fix_fields": [words.fix_fields(["message is required"]), words.fix_fields(["a is required", "b must be text"])],
    "no_route": [words.no_route("/api/nothing")],
    "method_not_allowed": [words.method_not_allowed("/api/chat", "GET", ["POST"])],
    "body_too_large": [words.body_too_large(256), words.body_too_large(1)],
    "days_out_of_range": [words.days_out_of_range("2000-01-01", "9000-12-31")],
    "too_many_days": [words.too_many_days(1), words.too_many_days(366)],
    "secret_not_an_object": [words.secret_not_an_object("chimera/dev/app")],
    "secret_unreadable": [words.secret_unreadable("chimera/dev/app", "ResourceNotFoundException")],
    "database_url_missing": [words.database_url_missing(words.put_in(["chimera/dev/app"]))],
    "sign_in_missing": [words.sign_in_missing(words.put_in([]))],
    "provider_keys_missing": [words.provider_keys_missing(words.put_in(["a", "b"]))],
}
# Pieces of sentences, not sentences: numbers, lists, places and clauses the sentences above use.
PIECES = {
    "count",
    "wait",
    "listing",
    "retry_when",
    "put_in",
    "model_failed",
    "model_resting",
    "field_too_long",
    "field_one_of",
    "RESTING",
    "SPENT",
    "FIELD_NOT_VALID",
}


def test_every_public_sentence_is_checked_here() -> None:
    public = {
        name
        for name, value in vars(words).items()
        if (name.isupper() and isinstance(value, str) and not name.endswith("_TITLE"))
        or (inspect.isfunction(value) and value.__module__ == words.__name__ and not name.startswith("_"))
    }
    assert public - PIECES == set(SENTENCES)


ALL = [(name, sentence) for name, said in SENTENCES.items() for sentence in said]


@pytest.mark.parametrize(("name", "sentence"), ALL, ids=[f"{name}-{i}" for i, (name, _) in enumerate(ALL)])
def test_each_sentence_ends_with_a_full_stop_and_says_what_to_do(name: str, sentence: str) -> None:
    assert sentence[0].isupper(), sentence
    assert sentence.endswith("."), sentence
    assert "Please " in sentence or "please " in sentence, f"{name} does not say what to do: {sentence}"
    assert not re.search(r"\b1 (second|minute|hour|message|token|day|KB)s\b", sentence), sentence
    assert "  " not in sentence and ".." not in sentence, sentence


def test_the_401_sentences_fit_in_a_www_authenticate_header() -> None:
    """All but the missing-token one go into error_description="…": ASCII, no double quote."""
    sent = [value for name, value in vars(words).items() if name.startswith("TOKEN_") and name != "TOKEN_MISSING"]
    assert len(sent) == 7
    assert all(sentence.isascii() and '"' not in sentence for sentence in sent), sent


def test_titles_are_short_names_not_sentences() -> None:
    titles = [value for name, value in vars(words).items() if name.endswith("_TITLE")]
    assert titles and all(title[0].isupper() and not title.endswith(".") and len(title) <= 30 for title in titles)


def test_the_model_failures_read_after_a_label() -> None:
    assert words.model_failed("Groq fast", "rate_limited") == "Groq fast is at its rate limit"
    assert words.model_resting("Groq fast", gone=True) == "Groq fast is no longer offered by its provider"
    assert words.model_resting("Gemini Flash", gone=False) == "Gemini Flash is resting after errors or rate limits"


# --- The problems read their sentences from here --------------------------------------------------


def app_raising(exc: Exception | None = None) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things")
    async def things() -> dict[str, str]:
        if exc is not None:
            raise exc
        return {}

    @app.delete("/things")
    async def forget() -> None: ...

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    app.add_middleware(BodyLimitMiddleware, max_bytes=1024)
    return TestClient(app, raise_server_exceptions=False)


Case = tuple[Exception, int, str, str]
RAISED: list[Case] = [
    (ConversationNotFound("c1"), 404, words.NOT_FOUND_TITLE, words.CONVERSATION_NOT_FOUND),
    (InvalidCursor("x"), 400, words.BAD_CURSOR_TITLE, words.BAD_CURSOR),
    (AuthUnavailable("keys"), 503, words.UNAVAILABLE_TITLE, words.SIGN_IN_KEYS_UNAVAILABLE),
    (RuntimeError("internal detail"), 500, words.WENT_WRONG_TITLE, words.SERVER_FAULT),
    (HTTPException(422, words.DAYS_REVERSED), 422, words.NOT_VALID_TITLE, words.DAYS_REVERSED),  # a route's own
]


@pytest.mark.parametrize(("exc", "status", "title", "detail"), RAISED, ids=lambda v: type(v).__name__)
def test_a_domain_error_is_a_problem_in_these_words(exc: Exception, status: int, title: str, detail: str) -> None:
    response = app_raising(exc).get("/things")

    assert response.status_code == status
    assert response.json() | {"type": None} == {"type": None, "title": title, "status": status, "detail": detail}


def test_an_unknown_route_a_wrong_method_and_a_large_body_say_what_to_do() -> None:
    client = app_raising()

    missing = client.get("/nowhere")
    wrong = client.put("/things")
    large = client.post("/echo", json={"text": "x" * 2000})

    assert (missing.status_code, missing.json()["detail"]) == (
        404,
        "There is no API route /nowhere. Please check the address; /api/docs lists every route.",
    )
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "DELETE, GET")
    assert wrong.json()["detail"] == "The API route /things does not answer PUT. Please use DELETE or GET."
    assert (large.status_code, large.json()["detail"]) == (
        413,
        "The request body is larger than 1 KB. Please send a shorter message.",
    )


def test_a_field_problem_names_the_field_and_the_fix() -> None:
    response = app_raising().post("/echo", json={"text": 7})

    assert response.status_code == 422
    assert response.json()["title"] == "The request is not valid"
    assert response.json()["detail"] == "Please fix: text must be text."
