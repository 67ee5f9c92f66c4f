"""Bad requests get a 4xx a person can act on, and nothing is half-written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from chimera.models import MAX_MESSAGE_CHARS


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"message": ""}, "message", "must not be empty"),
        ({"message": "   \n "}, "message", "the message is empty"),
        ({}, "message", "is required"),
        ({"message": 42}, "message", "must be text"),
        ({"message": "x" * (MAX_MESSAGE_CHARS + 1)}, "message", f"at most {MAX_MESSAGE_CHARS} characters"),
        ({"message": "hi", "model": "gpt-5"}, "model", "must be one of 'auto', 'groq-llama-70b'"),
        ({"message": "hi", "conversationId": 7}, "conversationId", "must be text"),
    ],
)
def test_invalid_bodies_get_a_readable_422(
    client: httpx.Client, db: psycopg.Connection, body: dict[str, object], field: str, words: str
) -> None:
    response = client.post("/api/chat", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] == "The request is not valid"
    assert any(e["field"] == field and words in e["message"] for e in problem["errors"]), problem
    assert words in problem["detail"]
    assert db.execute("select count(*) from messages").fetchone() == (0,)
    assert db.execute("select count(*) from conversations").fetchone() == (0,)


def test_a_body_that_is_not_json_is_refused(client: httpx.Client, db: psycopg.Connection) -> None:
    response = client.post("/api/chat", content=b"{not json", headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]
    assert db.execute("select count(*) from messages").fetchone() == (0,)


def test_an_oversized_body_is_refused_before_parsing(client: httpx.Client, db: psycopg.Connection) -> None:
    # POST /api/chat takes up to 4 MB: a stock AI SDK client resends the whole conversation.
    response = client.post("/api/chat", json={"message": "x" * 4_300_000})

    assert response.status_code == 413
    assert "larger than 4,096 KB" in response.json()["detail"]
    # Every other route keeps 256 KB.
    renamed = client.patch(f"/api/conversations/{uuid.uuid4()}", json={"title": "x" * 300_000})
    assert renamed.status_code == 413 and "larger than 256 KB" in renamed.json()["detail"]
    assert db.execute("select count(*) from messages").fetchone() == (0,)


def test_health_is_ready(client: httpx.Client) -> None:
    response = client.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "providers": ["gemini", "groq"], "simulated": True}


def test_an_unknown_api_route_is_a_404_problem_not_the_page(client: httpx.Client) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, "/api/dev/nothing-here")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_an_oversized_body_without_a_length_is_refused_too(client: httpx.Client, db: psycopg.Connection) -> None:
    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to look at
        yield b'{"message": "'
        for _ in range(430):
            yield b"x" * 10_000
        yield b'"}'

    response = client.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert db.execute("select count(*) from messages").fetchone() == (0,)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/chat", {"message": "nul \x00 inside"}),
        ("POST", "/api/chat", {"message": "hi", "conversationId": "../../etc"}),
        ("PATCH", "/api/conversations/abc", {"title": "nul \x00"}),
        ("GET", "/api/usage?from=9999-12-31&to=9999-12-31", None),
        ("GET", "/api/usage?to=0001-01-05", None),
    ],
)
def test_odd_input_gets_a_422_problem_never_a_500(
    client: httpx.Client, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = client.request(method, path, json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
