"""The limits for people through the real app: a person's minute, a network's minute, a person's day.

Each test starts its own app with low limits. Over a limit, POST /api/chat answers 429 with
Retry-After and a sentence, before any provider is called and before anything is saved; a request
refused for another reason (404, 422) spends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import psycopg
import pytest
from chimera.api.routes_chat import VIEWER_IP_HEADER
from chimera.dev.simulator import ProviderSimulator, Scenario
from pydantic import SecretStr

from tests.conftest import LOCAL_USER, bearer, make_settings
from tests.support.servers import AppServer
from tests.support.sse import iter_events

SOMEONE_ELSE = "00000000-0000-4000-8000-0000000000cc"
A_THIRD = "00000000-0000-4000-8000-0000000000dd"
ORIGIN_SECRET = "origin-secret-for-the-limits-tests"


StartApp = Callable[..., httpx.Client]


@pytest.fixture
def start_app(database_url: str, simulator: ProviderSimulator) -> Iterator[StartApp]:
    """Start the app with these settings; every app started is stopped at the end."""
    with ExitStack() as stack:

        def start(**overrides: object) -> httpx.Client:
            server = stack.enter_context(AppServer(make_settings(database_url, simulator, **overrides)))
            return stack.enter_context(httpx.Client(base_url=server.url, timeout=30, headers=bearer(LOCAL_USER)))

        yield start


def user_messages(db: psycopg.Connection) -> list[str]:
    return [row[0] for row in db.execute("select content from messages where role = 'user' order by created_at")]


def assert_limited(response: httpx.Response, detail_starts: str) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    wait = int(response.headers["retry-after"])
    assert wait >= 1
    assert response.json()["retryAfterSeconds"] == wait
    assert response.json()["detail"].startswith(detail_starts), response.json()["detail"]
    return wait


def test_the_chat_after_a_persons_limit_gets_a_429_and_nothing_is_saved(
    start_app: StartApp, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    client = start_app(chat_rate_limit_per_minute=3)
    for n in range(3):
        assert client.post("/api/chat", json={"message": f"hello {n}"}).status_code == 200

    refused = client.post("/api/chat", json={"message": "one too many"})
    other_person = client.post("/api/chat", json={"message": "mine"}, headers=bearer(SOMEONE_ELSE))

    wait = assert_limited(refused, "You have sent 3 messages in the last minute. Please wait ")
    assert wait <= 60
    assert refused.json()["detail"].endswith("; your text is kept.")
    assert other_person.status_code == 200
    assert "one too many" not in user_messages(db) and len(user_messages(db)) == 4
    assert not [seen for seen in simulator.state.seen if "one too many" in seen.prompt]  # no model was asked


def test_a_request_refused_for_another_reason_spends_nothing(start_app: StartApp, db: psycopg.Connection) -> None:
    client = start_app(chat_rate_limit_per_minute=2)
    for _ in range(3):
        not_theirs = client.post("/api/chat", json={"message": "hi", "conversationId": str(uuid.uuid4())})
        assert not_theirs.status_code == 404
        assert client.post("/api/chat", json={"message": ""}).status_code == 422
        assert client.post("/api/chat", json={}).status_code == 422

    assert [client.post("/api/chat", json={"message": f"m{n}"}).status_code for n in range(3)] == [200, 200, 429]
    assert user_messages(db) == ["m0", "m1"]


def test_a_message_refused_because_the_conversation_is_still_answering_spends_nothing(
    start_app: StartApp, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    client = start_app(chat_rate_limit_per_minute=3)
    simulator.state.script("groq", Scenario(tokens=8, token_delay_s=0.25))  # about 2 s of answer
    with client.stream("POST", "/api/chat", json={"message": "first"}) as slow:  # chat 1 of 3
        events = iter_events(slow)
        conversation = ""
        for received in events:
            if received.event["type"] == "data-conversation":
                conversation = received.event["data"]["conversationId"]
            if received.event["type"] == "text-delta":  # answering now: three refusals with 409
                busy = [
                    client.post("/api/chat", json={"message": "again", "conversationId": conversation}).status_code
                    for _ in range(3)
                ]
                break
        for _ in events:
            pass
    assert busy == [409, 409, 409]

    # The three refusals took none of the minute's places: two more chats go through, then 429.
    statuses = [client.post("/api/chat", json={"message": f"m{n}"}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    assert user_messages(db) == ["first", "m0", "m1"]


def test_everyone_from_one_address_shares_its_limit(start_app: StartApp, db: psycopg.Connection) -> None:
    # No origin guard (a laptop): the socket's address counts, and a header a client sets is ignored.
    client = start_app(chat_rate_limit_per_minute=10, chat_rate_limit_per_ip_per_minute=3)
    answers = [
        client.post("/api/chat", json={"message": "a1"}, headers={VIEWER_IP_HEADER: "192.0.2.1"}),
        client.post("/api/chat", json={"message": "a2"}, headers={VIEWER_IP_HEADER: "192.0.2.2"}),
        client.post(
            "/api/chat", json={"message": "b1"}, headers={**bearer(SOMEONE_ELSE), VIEWER_IP_HEADER: "192.0.2.3"}
        ),
        client.post("/api/chat", json={"message": "c1"}, headers=bearer(A_THIRD)),
    ]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert_limited(answers[3], "Your network has sent 3 messages in the last minute. Please wait ")
    assert sorted(user_messages(db)) == ["a1", "a2", "b1"]


def test_behind_cloudfront_the_viewer_address_cloudfront_sends_is_the_network(start_app: StartApp) -> None:
    client = start_app(
        chat_rate_limit_per_minute=10,
        chat_rate_limit_per_ip_per_minute=1,
        chimera_origin_secret=SecretStr(ORIGIN_SECRET),
    )

    def chat(person: str, viewer: str) -> int:
        headers = {**bearer(person), "x-chimera-origin": ORIGIN_SECRET, VIEWER_IP_HEADER: viewer}
        return client.post("/api/chat", json={"message": "hi"}, headers=headers).status_code

    assert chat(LOCAL_USER, "192.0.2.1") == 200
    assert chat(SOMEONE_ELSE, "192.0.2.1") == 429  # another person on the same network
    assert chat(SOMEONE_ELSE, "198.51.100.7") == 200  # the same loopback socket, another viewer
    assert chat(A_THIRD, "2001:db8:1:2::1") == 200
    assert chat(LOCAL_USER, "2001:db8:1:2::ffff") == 429  # the same IPv6 /64


def test_a_person_over_todays_tokens_gets_a_429_and_another_is_not(start_app: StartApp, db: psycopg.Connection) -> None:
    client = start_app(chat_tokens_per_day=10)
    assert client.post("/api/chat", json={"message": "a long enough question"}).status_code == 200
    (used,) = db.execute("select sum(input_tokens + output_tokens) from ai_usage where user_id = %s", (LOCAL_USER,))
    assert used[0] >= 10

    refused = client.post("/api/chat", json={"message": "and another"})
    other_person = client.post("/api/chat", json={"message": "mine"}, headers=bearer(SOMEONE_ELSE))

    wait = assert_limited(refused, "You have used today's 10 tokens. They renew at midnight UTC, in ")
    assert wait <= 86_400
    assert other_person.status_code == 200
    assert "and another" not in user_messages(db)
