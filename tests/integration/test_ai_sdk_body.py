"""POST /api/chat with the AI SDK's default body: a stock useChat needs no glue.

`{id, messages, trigger, messageId}`: `id` is the conversation, chosen by the client (created when
new, 404 when it is someone else's); the last user message is the question; `trigger:
"regenerate-message"` answers the last question again and keeps the old answer as replaced.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
from chimera.dev.simulator import ProviderSimulator, simulated_answer

from tests.conftest import bearer
from tests.support.sse import iter_events, of_type, streamed_text

SOMEONE_ELSE = "00000000-0000-4000-8000-0000000000e5"


def ui_body(chat_id: str, *texts: str, trigger: str = "submit-message", **extra: Any) -> dict[str, Any]:
    """What DefaultChatTransport sends: the whole conversation as UI messages, newest last."""
    messages = [
        {"id": f"m{i}", "role": "user" if i % 2 == 0 else "assistant", "parts": [{"type": "text", "text": text}]}
        for i, text in enumerate(texts)
    ]
    return {"id": chat_id, "messages": messages, "trigger": trigger, "messageId": None, **extra}


def send(client: httpx.Client, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    with client.stream("POST", "/api/chat", json=body) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, [response.json()]
        return 200, [r.event for r in iter_events(response)]


def test_a_new_chat_id_becomes_the_conversation_and_the_last_user_message_is_the_question(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    chat_id = str(uuid.uuid4())

    status, events = send(client, ui_body(chat_id, "What is streaming?", model="groq-llama-70b"))

    assert status == 200
    assert of_type(events, "data-conversation")[0]["data"]["conversationId"] == chat_id
    assert streamed_text(events) == simulated_answer("What is streaming?")
    assert simulator.state.requests_to("groq")[-1].model == "openai/gpt-oss-120b"  # `model` rides along
    rows = db.execute(
        "select role, content, status from messages where conversation_id = %s order by created_at", (chat_id,)
    ).fetchall()
    assert rows == [
        ("user", "What is streaming?", "complete"),
        ("assistant", simulated_answer("What is streaming?"), "complete"),
    ]

    # The next turn sends the whole conversation again; only its last user message is new.
    status, events = send(
        client, ui_body(chat_id, "What is streaming?", simulated_answer("What is streaming?"), "And SSE?")
    )
    assert status == 200 and streamed_text(events) == simulated_answer("And SSE?")
    questions = db.execute(
        "select content from messages where conversation_id = %s and role = 'user' order by created_at", (chat_id,)
    ).fetchall()
    assert questions == [("What is streaming?",), ("And SSE?",)]
    # The model saw the saved history, not what the client claimed.
    assert simulator.state.requests_to("groq")[-1].prompt == "And SSE?"


def test_someone_elses_chat_id_is_not_found(live_server: str, client: httpx.Client, db: psycopg.Connection) -> None:
    chat_id = str(uuid.uuid4())
    assert send(client, ui_body(chat_id, "mine"))[0] == 200

    with httpx.Client(base_url=live_server, headers=bearer(SOMEONE_ELSE), timeout=30) as other:
        status, (problem,) = send(other, ui_body(chat_id, "let me in"))

    assert status == 404 and problem["status"] == 404
    assert db.execute("select count(*) from messages where content = 'let me in'").fetchone() == (0,)


def test_regenerate_answers_the_last_question_again_and_keeps_the_old_answer_as_replaced(
    client: httpx.Client, db: psycopg.Connection
) -> None:
    chat_id = str(uuid.uuid4())
    send(client, ui_body(chat_id, "Tell me a fact"))
    first_answer = db.execute("select id from messages where role = 'assistant'").fetchone()

    status, events = send(client, ui_body(chat_id, "Tell me a fact", "…", trigger="regenerate-message"))

    assert status == 200 and of_type(events, "finish")
    rows = db.execute(
        "select id, role, status, metadata->>'replyTo' from messages where conversation_id = %s order by created_at",
        (chat_id,),
    ).fetchall()
    question_id = rows[0][0]
    assert [(role, state) for _, role, state, _ in rows] == [
        ("user", "complete"),
        ("assistant", "replaced"),
        ("assistant", "complete"),
    ]
    assert rows[1][0] == first_answer[0] and rows[2][3] == question_id  # the new answer answers the same question
    # History shows the current answer; the replaced one is kept but marked.
    detail = client.get(f"/api/conversations/{chat_id}").json()
    assert [m["status"] for m in detail["messages"]] == ["complete", "replaced", "complete"]


def test_an_edit_replaces_the_question_and_what_followed_it_and_is_answered_in_its_place(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    chat_id = str(uuid.uuid4())
    send(client, ui_body(chat_id, "First question"))
    send(client, ui_body(chat_id, "First question", "…", "Second question"))
    second_id = db.execute(
        "select id from messages where conversation_id = %s and content = 'Second question'", (chat_id,)
    ).fetchone()[0]

    body = ui_body(chat_id, "First question", "…", "Second question, edited", messageId=second_id)
    status, events = send(client, body)

    assert status == 200 and of_type(events, "finish")
    rows = db.execute(
        "select role, content, status from messages where conversation_id = %s order by created_at", (chat_id,)
    ).fetchall()
    assert [(role, state) for role, _, state in rows] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "replaced"),
        ("assistant", "replaced"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert rows[4][1] == "Second question, edited"
    # The stream named the new question, so a page can offer to edit it in turn
    new_id = db.execute("select id from messages where content = 'Second question, edited'").fetchone()[0]
    assert of_type(events, "data-conversation")[0]["data"]["questionId"] == new_id
    # The model was asked the edited question.
    assert simulator.state.seen[-1].prompt == "Second question, edited"
    assert streamed_text(events) == simulated_answer("Second question, edited")


def test_a_message_id_the_server_never_saved_is_an_ordinary_question(
    client: httpx.Client, db: psycopg.Connection
) -> None:
    chat_id = str(uuid.uuid4())
    send(client, ui_body(chat_id, "First question"))
    status, _ = send(client, ui_body(chat_id, "First question", "…", "Again", messageId="client-side-id"))
    assert status == 200
    states = db.execute("select status from messages where conversation_id = %s", (chat_id,)).fetchall()
    assert [s for (s,) in states] == ["complete"] * 4


def test_regenerating_in_a_conversation_that_does_not_exist_is_not_found(client: httpx.Client) -> None:
    status, (problem,) = send(client, ui_body(str(uuid.uuid4()), "x", trigger="regenerate-message"))
    assert status == 404 and problem["status"] == 404


def test_a_body_whose_last_user_message_has_no_text_gets_a_sentence(client: httpx.Client) -> None:
    body = ui_body(str(uuid.uuid4()), "   ")
    status, (problem,) = send(client, body)
    assert status == 422
    assert "the message is empty" in problem["detail"]


def test_a_long_earlier_answer_sent_back_by_the_client_does_not_refuse_the_next_question(
    client: httpx.Client,
) -> None:
    # The transport resends the whole chat; an answer of 20,000 characters (about 5,000 tokens) and
    # a history far over 256 KB are the client's copy, not the question, and are not held against it.
    long_answer = "word " * 4_000
    history = ["Tell me a lot", long_answer] * 15  # about 600 KB
    status, events = send(client, ui_body(str(uuid.uuid4()), *history, "Thanks, and now?"))
    assert status == 200, events
    assert streamed_text(events) == simulated_answer("Thanks, and now?")
