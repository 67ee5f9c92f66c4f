"""Every provider fault, at each provider, through the real SDKs: one answer or one clear error.

Each case scripts one fault at the provider of the chosen model (``groq-llama-70b`` for Groq,
``gemini-flash`` for Gemini) and sends one message over real HTTP. Whatever the fault, the person
sees exactly one ending: a ``finish`` after the whole answer, once (after a mid-answer fault the next
model continues the partial answer), or one ``error`` with a sentence for a person. The database
holds the person's message and at most one answer for the turn, the one that was streamed.

A fault that is the provider's (429, 5xx, a refused connection, a drop, a broken chunk, a stall, a
retired model) hands the turn to another model and says why; a request that is too large is the
request's own fault and rests no model. A fault that is tried again is scripted twice: the test
settings give each model two tries, with 1.5 s first-token and idle deadlines.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import psycopg
import pytest
from chimera import words
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from chimera.providers.catalogue import load_catalogue
from chimera.providers.health import FAILURES_TO_OPEN
from chimera.store.memory import MemoryBudgetStore, MemoryHealthStore

from tests.conftest import LOCAL_USER, bearer, make_settings
from tests.support.servers import AppServer
from tests.support.sse import iter_events, of_type, streamed_text

Provider = Literal["groq", "gemini"]
CATALOGUE = load_catalogue()
CHOSEN: dict[Provider, str] = {"groq": "groq-llama-70b", "gemini": "gemini-flash"}
BASE_URL_SETTING: dict[Provider, str] = {"groq": "groq_base_url", "gemini": "google_gemini_base_url"}
PROMPT = "Tell me how a chat backend survives a flaky provider"
# What a person should never have to read: HTTP codes, exceptions, bodies, URLs, our internals.
SOUP = re.compile(r"\b[1-5]\d\d\b|traceback|exception|error:|[{}<>\[\]]|https?://|provider_?error|_", re.IGNORECASE)


@dataclass(frozen=True)
class Fault:
    """One way a provider can fail a request, and what it is called in ``fallbackReason``."""

    kind: str  # a key of words.MODEL_FAILURES: what the person is told about the failed model
    scenarios: tuple[Scenario, ...] = ()  # queued at the provider, one per request
    retired: bool = False  # the provider no longer serves the chosen model
    refused: bool = False  # the provider's address refuses connections
    mid_answer: bool = False  # text was streamed before the fault: the next model continues it
    requests: int = 1  # how many times the chosen model is asked (2: it was tried again)
    rests: bool = False  # told to wait long, the chosen model rests afterwards (for everybody)

    @property
    def request_fault(self) -> bool:
        return self.kind == "too_large"


def twice(scenario: Scenario) -> tuple[Scenario, ...]:
    return (scenario, scenario)


@pytest.fixture(autouse=True)
def _quick_answers(simulator: ProviderSimulator) -> None:
    """Answers without the usual pause between words (the file stays fast); faults keep their timing."""
    simulator.state.defaults.token_delay_s = 0.001


RATE_LIMITED_SHORT = Fault("rate_limited", twice(Scenario(status=429, retry_after_s=1)), requests=2)
RATE_LIMITED_LONG = Fault("rate_limited", (Scenario(status=429, retry_after_s=30),), rests=True)
# Groq's 429 for requests a day: retry-after 87 s, x-ratelimit-remaining-requests 0 and its reset.
RATE_LIMITED_GROQ_HEADERS = Fault("rate_limited", (Scenario(status=429, rate_limit="rpd"),), rests=True)
# Gemini's 429 without a RetryInfo detail: the wait is only in the message ("Please retry in 30s.").
RATE_LIMITED_NO_RETRY_INFO = Fault(
    "rate_limited", (Scenario(status=429, retry_after_s=30, retry_info=False),), rests=True
)
SERVER_ERROR = Fault("unavailable", twice(Scenario(status=500)), requests=2)
OVERLOADED = Fault("unavailable", twice(Scenario(status=503)), requests=2)
REFUSED = Fault("unavailable", refused=True)
DROPPED = Fault("unavailable", (Scenario(drop_after=5),), mid_answer=True)
MALFORMED_FIRST = Fault("bad_response", twice(Scenario(malformed_after=0)), requests=2)
MALFORMED_MID = Fault("bad_response", (Scenario(malformed_after=5),), mid_answer=True)
STALL_BEFORE = Fault("timeout", twice(Scenario(stall_after=0)), requests=2)
STALL_AFTER = Fault("timeout", (Scenario(stall_after=5),), mid_answer=True)
TOO_LONG_CONTEXT = Fault("too_large", (Scenario(status=400),))  # Groq context_length_exceeded, Gemini token count
TOO_LARGE_TPM = Fault("too_large", (Scenario(status=413),))  # Groq: over the model's tokens a minute
RETIRED = Fault("model_gone", retired=True)

COMMON = {
    "429-short-retry-after": RATE_LIMITED_SHORT,
    "429-long-retry-after": RATE_LIMITED_LONG,
    "500": SERVER_ERROR,
    "503": OVERLOADED,
    "refused": REFUSED,
    "drop-after-5": DROPPED,
    "malformed-first-chunk": MALFORMED_FIRST,
    "malformed-after-5": MALFORMED_MID,
    "stall-before-first-token": STALL_BEFORE,
    "stall-after-first-token": STALL_AFTER,
    "decommissioned": RETIRED,
}
# Too long for Gemini's 1M-token window is too long for every smaller model (the router does not
# ask them): that case ends in one error, in the matrix of faults everywhere.
ONLY: dict[Provider, dict[str, Fault]] = {
    "groq": {
        "429-groq-headers": RATE_LIMITED_GROQ_HEADERS,
        "413-too-large": TOO_LARGE_TPM,
        "400-too-long": TOO_LONG_CONTEXT,
    },
    "gemini": {"429-no-retry-info": RATE_LIMITED_NO_RETRY_INFO},
}
OWN_TROUBLE = {"rate_limited", "model_gone"}  # the model's own: Groq's other model may answer


def answered_by(provider: Provider, fault: Fault) -> str:
    """Groq small is asked after Groq large's own trouble; otherwise the other provider answers."""
    if provider == "groq":
        return "groq-llama-8b" if fault.kind in OWN_TROUBLE else "gemini-flash"
    return "groq-llama-70b"


MATRIX = [
    pytest.param(provider, fault, id=f"{provider}-{name}")
    for provider in ("groq", "gemini")
    for name, fault in {**COMMON, **ONLY[provider]}.items()
]


# --- Servers and the one chat --------------------------------------------------------------------


@pytest.fixture(scope="module")
def refusing_app(database_url: str, simulator: ProviderSimulator) -> Iterator[Callable[[frozenset[Provider]], str]]:
    """A second app whose given providers live at a loopback port that refuses connections
    (bound, never listening); started on first use, one per set of providers, and like
    ``live_server`` with its models' health and budgets forgotten each time it is handed out."""
    with socket.socket() as closed, ExitStack() as servers:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"
        started: dict[frozenset[Provider], AppServer] = {}

        def url(refused: frozenset[Provider]) -> str:
            if refused not in started:
                overrides = {BASE_URL_SETTING[p]: nobody for p in refused}
                started[refused] = servers.enter_context(AppServer(make_settings(database_url, simulator, **overrides)))
            chat = started[refused].runtime.chat
            assert isinstance(chat.health, MemoryHealthStore) and isinstance(chat.budgets, MemoryBudgetStore)
            chat.health.clear()
            chat.budgets.clear()
            return started[refused].url

        yield url


@dataclass(frozen=True)
class Turn:
    events: list[dict[str, Any]]
    models: dict[str, str]  # GET /api/models afterwards: status by model id


def chat(base_url: str, model: str) -> Turn:
    with httpx.Client(base_url=base_url, timeout=30, headers=bearer(LOCAL_USER)) as client:
        with client.stream("POST", "/api/chat", json={"message": PROMPT, "model": model}) as response:
            assert response.status_code == 200, response.read()
            events = [r.event for r in iter_events(response)]
        listed = client.get("/api/models").json()["models"]
    return Turn(events, {m["id"]: m["status"] for m in listed})


def assert_one_ending(events: list[dict[str, Any]]) -> None:
    """One answer or one error, never both, and the answer is one text part."""
    kinds = [e["type"] for e in events]
    assert kinds.count("finish") + kinds.count("error") == 1, kinds
    assert kinds[-1] in ("finish", "error"), kinds
    assert kinds.count("text-start") <= 1 and kinds.count("text-end") <= 1, kinds
    assert "data-discard" not in kinds, "nothing is taken back: the next model continues"


def assert_for_a_person(text: str) -> None:
    assert text[:1].isupper() and text.endswith("."), text
    assert "Please" in text, text  # it says what to do
    assert not SOUP.search(text), text
    assert len(text) < 400, text


def assert_saved(db: psycopg.Connection[tuple[Any, ...]], events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The person's message, and at most one answer: what was streamed. Returns its metadata."""
    conversation_id = of_type(events, "data-conversation")[0]["data"]["conversationId"]
    rows = db.execute(
        "select role, content, metadata from messages where conversation_id = %s order by created_at",
        (conversation_id,),
    ).fetchall()
    assert db.execute("select count(*) from messages").fetchone() == (len(rows),), "a row of another turn"
    assert rows and rows[0][:2] == ("user", PROMPT), rows
    answers = [row for row in rows if row[0] == "assistant"]
    assert len(answers) <= 1, answers
    assert len(rows) == 1 + len(answers), rows
    if of_type(events, "finish"):
        assert len(answers) == 1, "the answer the person saw was not saved"
    if not answers:
        return None
    assert answers[0][1] == streamed_text(events)
    metadata: dict[str, Any] = answers[0][2]
    return metadata


# --- One fault at the chosen model's provider: another model answers -----------------------------


@pytest.mark.parametrize(("provider", "fault"), MATRIX)
def test_a_fault_at_one_provider_ends_in_the_whole_answer_once(
    live_server: str,
    db: psycopg.Connection[tuple[Any, ...]],
    simulator: ProviderSimulator,
    refusing_app: Callable[[frozenset[Provider]], str],
    provider: Provider,
    fault: Fault,
) -> None:
    chosen = CATALOGUE.spec(CHOSEN[provider])
    simulator.state.script(provider, *fault.scenarios)
    if fault.retired:
        simulator.state.retire(provider, chosen.provider_model)
    base_url = refusing_app(frozenset({provider})) if fault.refused else live_server

    turn = chat(base_url, chosen.key)

    events = turn.events
    assert_one_ending(events)
    assert not of_type(events, "error"), of_type(events, "error")
    assert streamed_text(events) == simulated_answer(PROMPT), "the whole answer, once"
    # Who answered, and why not the chosen model.
    expected = answered_by(provider, fault)
    reason = words.model_failed(chosen.label, fault.kind)
    models = [e["data"] for e in of_type(events, "data-model")]
    if fault.mid_answer:
        assert [(m["model"], m["fallbackReason"], m["continues"]) for m in models] == [
            (chosen.key, None, False),
            (expected, reason, True),
        ]
    else:
        assert [(m["model"], m["fallbackReason"], m["continues"]) for m in models] == [(expected, reason, False)]
    # How often the chosen model was asked: a refused connection never reaches the simulator.
    asked = [r for r in simulator.state.requests_to(provider) if r.model == chosen.provider_model]
    assert len(asked) == (0 if fault.refused else fault.requests)
    # What was saved.
    metadata = assert_saved(db, events)
    assert metadata is not None
    assert (metadata["model"], metadata["fallbackReason"], metadata["status"]) == (expected, reason, "complete")
    assert metadata["models"] == ([chosen.key, expected] if fault.mid_answer else [expected])
    # A long wait rests the model; a retired one is retired; the request's own fault rests nobody's
    # model, however often it comes (as many times as would open a circuit).
    if fault.request_fault:
        for _ in range(FAILURES_TO_OPEN - 1):
            simulator.state.script(provider, *fault.scenarios)
            turn = chat(base_url, chosen.key)
            assert of_type(turn.events, "finish"), turn.events
        assert set(turn.models.values()) == {"ok"}, turn.models
    if fault.rests:
        assert turn.models[chosen.key] == "resting", turn.models
    if fault.retired:
        assert turn.models[chosen.key] == "retired", turn.models


# --- The same fault everywhere: one clear error, and the message kept ----------------------------

# (fault, what the person reads: a prefix), for every provider at once.
EVERYWHERE = {
    "429-long-retry-after": (
        RATE_LIMITED_LONG,
        "The AI providers are at their free-tier limits right now. Please try again in 30 seconds.",
    ),
    "503": (OVERLOADED, "No AI model could answer ("),
    "refused": (REFUSED, "No AI model could answer ("),
    "drop-after-5": (DROPPED, "No AI model could answer ("),
    "malformed-first-chunk": (MALFORMED_FIRST, "No AI model could answer ("),
    "400-too-long": (TOO_LONG_CONTEXT, "This conversation is too long for "),
    "decommissioned": (RETIRED, "No AI model could answer ("),
}


@pytest.mark.parametrize("chosen_provider", ["groq", "gemini"])
@pytest.mark.parametrize(("fault", "said"), [pytest.param(*v, id=k) for k, v in EVERYWHERE.items()])
def test_the_same_fault_at_every_provider_ends_in_one_clear_error(
    live_server: str,
    db: psycopg.Connection[tuple[Any, ...]],
    simulator: ProviderSimulator,
    refusing_app: Callable[[frozenset[Provider]], str],
    chosen_provider: Provider,
    fault: Fault,
    said: str,
) -> None:
    for provider in ("groq", "gemini"):
        simulator.state.script(provider, *fault.scenarios * 3)  # enough for every model of each provider
    if fault.retired:
        for spec in CATALOGUE.models:
            simulator.state.retire(spec.provider, spec.provider_model)  # type: ignore[arg-type]
    base_url = refusing_app(frozenset({"groq", "gemini"})) if fault.refused else live_server

    turn = chat(base_url, CHOSEN[chosen_provider])

    events = turn.events
    assert_one_ending(events)
    (error,) = of_type(events, "error")
    assert error["errorText"].startswith(said), error["errorText"]
    assert_for_a_person(error["errorText"])
    # A wait is given only when waiting helps: the providers said how long.
    retry = [e["data"] for e in of_type(events, "data-retry")]
    assert retry == ([{"afterSeconds": 30}] if fault.kind == "rate_limited" else [])
    shown = streamed_text(events)
    if fault.mid_answer:  # what was shown is the start of the answer, nothing repeated
        assert shown and simulated_answer(PROMPT).startswith(shown)
    else:
        assert shown == ""
    metadata = assert_saved(db, events)
    if metadata is not None:  # kept, if at all, as what was shown: an answer that ended unfinished
        assert metadata["status"] not in ("complete", "streaming"), metadata
    if fault.request_fault:
        assert set(turn.models.values()) == {"ok"}, turn.models
