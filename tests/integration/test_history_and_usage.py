"""The history and usage APIs, and two people who never see each other's data."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from chimera.chat.turn import SYSTEM_PROMPT
from chimera.dev.simulator import ProviderSimulator, Scenario, SimulatorDefaults, prompt_token_count
from chimera.providers.catalogue import load_catalogue

from tests.conftest import bearer
from tests.support.sse import iter_events, of_type

A = "00000000-0000-4000-8000-0000000000aa"
B = "00000000-0000-4000-8000-0000000000bb"


@pytest.fixture
def people(live_server: str, db: psycopg.Connection) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        httpx.Client(base_url=live_server, headers=bearer(A), timeout=30) as a,
        httpx.Client(base_url=live_server, headers=bearer(B), timeout=30) as b,
    ):
        yield a, b


def converse(client: httpx.Client, message: str, **body: Any) -> tuple[str, list[dict[str, Any]]]:
    with client.stream("POST", "/api/chat", json={"message": message, **body}) as response:
        assert response.status_code == 200, response.read()
        events = [r.event for r in iter_events(response)]
    return of_type(events, "data-conversation")[0]["data"]["conversationId"], events


def test_b_cannot_list_read_rename_or_delete_what_is_as(people: tuple[httpx.Client, httpx.Client]) -> None:
    a, b = people
    conversation_id, _ = converse(a, "A's secret plans")

    assert b.get("/api/conversations").json() == {"items": [], "nextCursor": None}
    missing = b.get("/api/conversations/does-not-exist")
    for response in (
        b.get(f"/api/conversations/{conversation_id}"),
        b.patch(f"/api/conversations/{conversation_id}", json={"title": "mine now"}),
        b.delete(f"/api/conversations/{conversation_id}"),
    ):
        # Exactly like a conversation that does not exist: nothing leaks.
        assert (response.status_code, response.json()) == (404, missing.json())
    assert b.get("/api/usage").json()["totals"]["turns"] == 0
    chat_in_as = b.post("/api/chat", json={"message": "hijack", "conversationId": conversation_id})
    assert chat_in_as.status_code == 404

    detail = a.get(f"/api/conversations/{conversation_id}").json()
    assert detail["title"] == "A's secret plans" and len(detail["messages"]) == 2


def test_in_sql_b_sees_nothing_of_as_and_cannot_write_into_it(
    people: tuple[httpx.Client, httpx.Client], db: psycopg.Connection
) -> None:
    a, _ = people
    conversation_id, _ = converse(a, "for A only")
    with db.transaction():
        db.execute(
            "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            (f'{{"sub": "{B}", "role": "authenticated"}}',),
        )
        for table in ("conversations", "messages", "ai_usage"):
            assert db.execute(f"select count(*) from {table}").fetchone() == (0,), table
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
            db.execute(
                "insert into messages (id, conversation_id, role, content) values ('x', %s, 'user', 'sneaky')",
                (conversation_id,),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
            db.execute(
                "insert into ai_usage (id, user_id, provider, model, tokens_used) values ('u', %s, 'groq', 'm', 1)",
                (A,),
            )
        assert db.execute("update conversations set title = 'x' where id = %s", (conversation_id,)).rowcount == 0
        assert db.execute("delete from messages where conversation_id = %s", (conversation_id,)).rowcount == 0
    assert db.execute("select count(*) from messages where conversation_id = %s", (conversation_id,)).fetchone() == (2,)


def test_list_is_newest_first_with_previews_and_cursor_pages(people: tuple[httpx.Client, httpx.Client]) -> None:
    a, _ = people
    ids = [converse(a, f"question {n}")[0] for n in range(5)]

    first = a.get("/api/conversations", params={"limit": 2}).json()
    second = a.get("/api/conversations", params={"limit": 2, "cursor": first["nextCursor"]}).json()
    third = a.get("/api/conversations", params={"limit": 2, "cursor": second["nextCursor"]}).json()

    listed = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert listed == ids[::-1]
    assert third["nextCursor"] is None
    top = first["items"][0]
    assert top["title"] == "question 4" and top["messageCount"] == 2
    assert top["preview"] and len(top["preview"]) <= 120  # the start of the answer
    assert a.get("/api/conversations", params={"cursor": "bogus!"}).status_code == 400


def test_reading_a_conversation_gives_messages_in_order_with_metadata(
    people: tuple[httpx.Client, httpx.Client],
) -> None:
    a, _ = people
    conversation_id, _ = converse(a, "first")
    converse(a, "second", conversationId=conversation_id)

    detail = a.get(f"/api/conversations/{conversation_id}").json()

    assert [(m["role"], m["content"][:6]) for m in detail["messages"]][::2] == [("user", "first"), ("user", "second")]
    answer = detail["messages"][1]
    assert answer["metadata"]["provider"] == "groq" and answer["metadata"]["status"] == "complete"
    assert set(answer["metadata"]) >= {"model", "provider", "tokens", "durationMs", "ttftMs"}
    assert answer["status"] == "complete"


def test_rename_and_delete(people: tuple[httpx.Client, httpx.Client], db: psycopg.Connection) -> None:
    a, _ = people
    conversation_id, _ = converse(a, "to be renamed")

    renamed = a.patch(f"/api/conversations/{conversation_id}", json={"title": "  Better   name "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Better name"
    empty = a.patch(f"/api/conversations/{conversation_id}", json={"title": "   "})
    assert empty.status_code == 422 and "title" in empty.json()["detail"]

    assert a.delete(f"/api/conversations/{conversation_id}").status_code == 204
    assert a.get(f"/api/conversations/{conversation_id}").status_code == 404
    assert db.execute("select count(*) from messages").fetchone() == (0,)
    assert db.execute("select count(*) from ai_usage").fetchone() == (1,)  # the ledger keeps what was spent


def test_usage_totals_match_what_the_simulator_reported(
    people: tuple[httpx.Client, httpx.Client], simulator: ProviderSimulator
) -> None:
    a, _ = people
    script = [("groq-llama-70b", 30), ("groq-llama-8b", 7), ("gemini-flash", 12), ("groq-llama-8b", 3)]
    reported: list[tuple[str, dict[str, int]]] = []
    catalogue = load_catalogue()
    for model, tokens in script:
        provider = catalogue.spec(model).provider
        simulator.state.script(provider, Scenario(tokens=tokens, token_delay_s=0))  # type: ignore[arg-type]
        message = f"usage {uuid.uuid4()}"
        _, events = converse(a, message, model=model)
        # What the simulator bills: its own count of the prompt it was sent (system + message), and
        # the answer's tokens with the reasoning before them (both providers' models think first).
        billed = {
            "inputTokens": prompt_token_count([SYSTEM_PROMPT, message]),
            "outputTokens": tokens + SimulatorDefaults.reasoning_tokens,
        }
        assert {k: of_type(events, "data-usage")[0]["data"][k] for k in billed} == billed
        reported.append((model, billed))

    report = a.get("/api/usage").json()

    expected_in = sum(u["inputTokens"] for _, u in reported)
    expected_out = sum(u["outputTokens"] for _, u in reported)
    assert expected_out == 30 + 7 + 12 + 3 + 4 * SimulatorDefaults.reasoning_tokens
    totals = report["totals"]
    assert (totals["turns"], totals["inputTokens"], totals["outputTokens"]) == (4, expected_in, expected_out)
    assert totals["tokens"] == expected_in + expected_out
    expected_cost = sum(
        load_catalogue().spec(m).cost_cents(input_tokens=u["inputTokens"], output_tokens=u["outputTokens"])
        for m, u in reported
    )
    assert totals["costCents"] == pytest.approx(float(expected_cost), rel=1e-9)
    by_model = {row["model"]: row for row in report["byModel"]}
    small = by_model["groq-llama-8b"]
    assert (small["turns"], small["outputTokens"]) == (2, 7 + 3 + 2 * SimulatorDefaults.reasoning_tokens)
    by_provider = {row["provider"]: row["turns"] for row in report["byProvider"]}
    assert by_provider == {"groq": 3, "gemini": 1}
    today = datetime.now(UTC).date().isoformat()
    assert [(d["day"], d["turns"]) for d in report["byDay"]] == [(today, 4)]

    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert a.get("/api/usage", params={"from": tomorrow}).status_code == 422  # from after to
    assert a.get("/api/usage", params={"from": tomorrow, "to": tomorrow}).json()["totals"]["turns"] == 0


def crafted(*parts: object) -> str:
    """A cursor shaped like ours, carrying whatever a crafter put in it."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "%00",  # a NUL in the query string itself
        "\ud800",  # a lone surrogate (sent percent-encoded as UTF-8 would, or as its escape)
        crafted("2026-11-25T10:00:00+00:00", "abc\u0000def"),  # NUL inside a well-formed cursor
        crafted("2026-11-25T10:00:00+00:00", "\ud800"),  # a lone surrogate inside one
        crafted("2026-11-25T10:00:00", "abc"),  # no time zone
        crafted("not a time", "abc"),
        crafted(1, 2),
        crafted("2026-11-25T10:00:00+00:00"),
    ],
)
def test_a_crafted_cursor_is_a_400_problem(people: tuple[httpx.Client, httpx.Client], cursor: str) -> None:
    a, _ = people
    query = f"cursor={cursor}" if cursor.isascii() else "cursor=%ED%A0%80"  # raw bytes of a surrogate
    response = a.get(f"/api/conversations?{query}")

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        response.json()["detail"] == "The cursor is not one this API gave out. Please start again from the first page."
    )
