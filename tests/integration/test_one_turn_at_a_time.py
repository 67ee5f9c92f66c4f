"""One turn at a time per conversation: questions and answers never interleave.

A second message sent into a conversation while it is still answering gets a 409 and is not
saved; each answer is saved linked to the question it answers; a turn that fails, or whose person
leaves, gives the conversation back at once.
"""

from __future__ import annotations

import time

import httpx
import psycopg
from chimera.dev.simulator import ProviderSimulator, Scenario

from tests.support.sse import iter_events, of_type


def chat(client: httpx.Client, message: str, **extra: object) -> list[dict[str, object]]:
    with client.stream("POST", "/api/chat", json={"message": message, **extra}) as response:
        assert response.status_code == 200
        return [r.event for r in iter_events(response)]


def conversation_of(events: list[dict[str, object]]) -> str:
    return str(of_type(events, "data-conversation")[0]["data"]["conversationId"])  # type: ignore[index]


def test_a_second_message_while_answering_gets_409_and_is_not_saved(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    conversation = conversation_of(chat(client, "first question"))
    simulator.state.script("groq", Scenario(tokens=8, token_delay_s=0.25))  # about 2 s of answer

    with client.stream("POST", "/api/chat", json={"message": "second", "conversationId": conversation}) as slow:
        events = iter_events(slow)
        for received in events:
            if received.event["type"] == "text-delta":  # answering now
                meanwhile = client.post("/api/chat", json={"message": "third", "conversationId": conversation})
                break
        rest = [r.event for r in events]
    assert of_type(rest, "finish")

    assert meanwhile.status_code == 409
    assert meanwhile.headers["content-type"] == "application/problem+json"
    assert "still answering your last message" in meanwhile.json()["detail"]
    rows = db.execute(
        "select role, content, metadata->>'replyTo', id from messages"
        " where conversation_id = %s order by created_at, id",
        (conversation,),
    ).fetchall()
    assert [(role, content) for role, content, *_ in rows][::2] == [("user", "first question"), ("user", "second")]
    assert [role for role, *_ in rows] == ["user", "assistant", "user", "assistant"]
    assert rows[1][2] == rows[0][3] and rows[3][2] == rows[2][3]  # each answer names its question

    after = chat(client, "third", conversationId=conversation)  # once answered, the next one is welcome
    assert of_type(after, "finish")


def test_a_failed_turn_gives_the_conversation_back(client: httpx.Client, simulator: ProviderSimulator) -> None:
    conversation = conversation_of(chat(client, "hello"))
    simulator.state.script("groq", Scenario(status=500), Scenario(status=500))
    simulator.state.script("gemini", Scenario(status=503), Scenario(status=503))
    assert of_type(chat(client, "fails", conversationId=conversation), "error")

    assert of_type(chat(client, "works again", conversationId=conversation), "finish")


def test_a_person_who_leaves_mid_answer_gives_the_conversation_back(
    client: httpx.Client, simulator: ProviderSimulator
) -> None:
    conversation = conversation_of(chat(client, "hello"))
    simulator.state.script("groq", Scenario(tokens=40, token_delay_s=0.1))
    with client.stream("POST", "/api/chat", json={"message": "long", "conversationId": conversation}) as response:
        for received in iter_events(response):
            if received.event["type"] == "text-delta":
                break  # the tab closes

    deadline = time.monotonic() + 15  # the partial answer is saved by a task of its own
    while True:
        answer = client.post("/api/chat", json={"message": "again", "conversationId": conversation})
        if answer.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer.status_code == 200
