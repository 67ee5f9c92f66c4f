"""Answers that outlive their connection (issue 9), through real HTTP, the simulator and Postgres.

An answer is a record, not a connection: ``POST /api/chat/{id}/stop`` ends it wherever it is being
generated (the provider's stream is closed, what was said is kept as ``stopped``, with its tokens);
``GET /api/chat/{id}/stream`` gives it from its start, then live, exactly once, here or from
another instance through the row; an answer whose process was killed keeps the text of its last
flush, reads as ``interrupted`` once it is stale, and then its conversation takes a new message.

A client that disconnects is covered by ``test_chat_stream.py`` (the answer runs to its end).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from chimera import words
from chimera.dev.settings import LocalSettings
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from chimera.store.chat_store import TURN_LEASE_S
from chimera.store.memory import MemoryBudgetStore, MemoryHealthStore

from tests.conftest import LOCAL_USER, bearer, make_settings
from tests.support.servers import AppServer, app_process, free_port
from tests.support.sse import Received, iter_events, of_type, streamed_text

ROOT = Path(__file__).resolve().parents[2]
SOMEONE_ELSE = "00000000-0000-4000-8000-0000000000ee"
SLOW_TOKENS = 60  # 0.05 s apart: about 3 s of answer
FLUSH_S = 0.2  # the flush interval of the instances these tests start


def slow(tokens: int = SLOW_TOKENS) -> Scenario:
    return Scenario(tokens=tokens, token_delay_s=0.05, first_token_delay_s=0, reasoning_tokens=0)


def wait_for[T](read: Callable[[], T], *, within_s: float, what: str, every_s: float = 0.05) -> T:
    """``read()`` once it is truthy, polled until the deadline."""
    deadline = time.monotonic() + within_s
    while not (value := read()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within_s:g} s (last read: {value!r})")
        time.sleep(every_s)
    return value


def provider_requests(simulator: ProviderSimulator) -> set[asyncio.Task[None]]:
    """The requests the simulator is answering now: uvicorn's own set of running request tasks. The
    simulator counts requests, not the pieces it sent, so this is how a test sees a stream end."""
    return set(simulator._server.server_state.tasks)


class Following:
    """An answer's stream being read: what arrived so far, and the rest when asked."""

    def __init__(self, response: httpx.Response) -> None:
        self._events = iter_events(response)
        self.received: list[Received] = []

    @property
    def events(self) -> list[dict[str, Any]]:
        return [r.event for r in self.received]

    @property
    def conversation_id(self) -> str:
        return str(of_type(self.events, "data-conversation")[0]["data"]["conversationId"])

    def until_deltas(self, count: int) -> None:
        deltas = 0
        for received in self._events:
            self.received.append(received)
            deltas += received.event["type"] == "text-delta"
            if deltas == count:
                return
        raise AssertionError(f"the stream ended after {deltas} of {count} text deltas: {self.events}")

    def rest(self) -> list[dict[str, Any]]:
        self.received.extend(self._events)
        return self.events


@contextmanager
def answering(client: httpx.Client, message: str, *, deltas: int = 5, **body: object) -> Iterator[Following]:
    """A chat whose answer has begun: ``deltas`` text deltas read, the rest left on the wire."""
    with client.stream("POST", "/api/chat", json={"message": message, **body}) as response:
        assert response.status_code == 200, response.read()
        following = Following(response)
        following.until_deltas(deltas)
        yield following


def resume(client: httpx.Client, conversation_id: str) -> tuple[httpx.Response, list[Received]]:
    with client.stream("GET", f"/api/chat/{conversation_id}/stream") as response:
        if response.status_code != 200:
            response.read()
            return response, []
        return response, list(iter_events(response))


def chat(client: httpx.Client, message: str, **body: object) -> tuple[int, list[dict[str, Any]]]:
    with client.stream("POST", "/api/chat", json={"message": message, **body}) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, []
        return response.status_code, [r.event for r in iter_events(response)]


def saved_text(db: psycopg.Connection, conversation_id: str) -> str | None:
    row = db.execute(
        "select content from messages where conversation_id = %s and role = 'assistant'", (conversation_id,)
    ).fetchone()
    return row[0] if row else None


def assistant_row(db: psycopg.Connection, conversation_id: str) -> tuple[str, str, dict[str, Any] | None]:
    """The conversation's latest answer as the table holds it: content, status, metadata."""
    row = db.execute(
        "select content, status, metadata from messages where conversation_id = %s and role = 'assistant'"
        " order by created_at desc limit 1",
        (conversation_id,),
    ).fetchone()
    assert row is not None, "the answer has no row"
    return row


def assert_stopped_with_what_was_said(
    events: list[dict[str, Any]], db: psycopg.Connection, whole: str, conversation_id: str
) -> str:
    """The stream ended as a stopped answer, and the row and the ledger hold exactly what was said."""
    assert [e["type"] for e in events][-3:] == ["text-end", "data-usage", "finish"], events[-4:]
    facts = of_type(events, "data-usage")[0]["data"]
    said = streamed_text(events)
    deltas = len(of_type(events, "text-delta"))
    assert facts["status"] == "stopped"
    assert said and whole.startswith(said) and deltas < SLOW_TOKENS / 2, f"{deltas} of {SLOW_TOKENS} pieces sent"
    assert assistant_row(db, conversation_id) == (said, "stopped", facts)
    # The provider never reported usage for a stream that was cut: one estimated row, a token a piece.
    usage = db.execute("select provider, model, input_tokens, output_tokens, estimated from ai_usage").fetchall()
    assert usage == [("groq", facts["model"], facts["inputTokens"], deltas, True)]
    assert facts["outputTokens"] == deltas and facts["inputTokens"] > 0
    return said


# --- Stop, on the instance that generates the answer ----------------------------------------------


def test_stop_ends_the_answer_closes_the_provider_stream_and_keeps_what_was_said(
    client: httpx.Client, live_server: str, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", slow())
    prompt = "a long answer I will stop"
    whole = simulated_answer(prompt, SLOW_TOKENS)
    before = provider_requests(simulator)

    with (
        httpx.Client(base_url=live_server, timeout=30, headers=bearer(LOCAL_USER)) as other_tab,
        answering(client, prompt) as answer,
    ):
        streaming = provider_requests(simulator) - before
        assert len(streaming) == 1, "the provider is not streaming this answer"
        asked = time.monotonic()
        stop = other_tab.post(f"/api/chat/{answer.conversation_id}/stop")
        events = answer.rest()
        ended = answer.received[-1].at

    assert stop.status_code == 200 and stop.json() == {"stopped": True}
    assert ended - asked < 1.0, f"the stream ended {ended - asked:.2f} s after the stop"
    wait_for(lambda: all(task.done() for task in streaming), within_s=1.0, what="the provider's stream closed")
    assert time.monotonic() - asked < 1.5
    said = assert_stopped_with_what_was_said(events, db, whole, answer.conversation_id)

    # Nothing is being generated now: a second stop says so, a resume has nothing to give, and the
    # conversation takes the next message at once.
    again = client.post(f"/api/chat/{answer.conversation_id}/stop")
    assert again.status_code == 200 and again.json() == {"stopped": False}
    assert resume(client, answer.conversation_id)[0].status_code == 204
    status, next_turn = chat(client, "and now something short", conversationId=answer.conversation_id)
    assert status == 200 and of_type(next_turn, "finish")
    assert assistant_row(db, answer.conversation_id)[1] == "complete"
    stopped = db.execute("select content from messages where status = 'stopped'").fetchall()
    assert stopped == [(said,)]


def test_stop_in_a_conversation_with_nothing_generating_says_so(client: httpx.Client, db: psycopg.Connection) -> None:
    status, events = chat(client, "a short answer")
    assert status == 200 and of_type(events, "finish")
    conversation_id = str(of_type(events, "data-conversation")[0]["data"]["conversationId"])

    stop = client.post(f"/api/chat/{conversation_id}/stop")

    assert stop.status_code == 200 and stop.json() == {"stopped": False}
    assert assistant_row(db, conversation_id)[1] == "complete"


def test_someone_elses_conversation_is_404_for_stop_and_resume_and_its_answer_goes_on(
    client: httpx.Client, live_server: str, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", slow())
    with (
        httpx.Client(base_url=live_server, timeout=30, headers=bearer(SOMEONE_ELSE)) as stranger,
        answering(client, "mine alone") as answer,
    ):
        refused = [
            stranger.post(f"/api/chat/{answer.conversation_id}/stop"),
            stranger.get(f"/api/chat/{answer.conversation_id}/stream"),
        ]
        still_going = client.post(f"/api/chat/{answer.conversation_id}/stop")  # the owner's stop
        events = answer.rest()

    for response in refused:
        assert response.status_code == 404, response.request.url
        assert response.headers["content-type"] == "application/problem+json"
        assert "conversation" in response.json()["detail"]
    assert still_going.json() == {"stopped": True}  # the stranger's stop had not stopped it
    assert of_type(events, "data-usage")[0]["data"]["status"] == "stopped"


# --- Resume, on the instance that generates the answer --------------------------------------------


def test_a_second_connection_resumes_the_answer_from_its_start_exactly_once(
    client: httpx.Client, live_server: str, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", slow())
    prompt = "an answer for two tabs"
    whole = simulated_answer(prompt, SLOW_TOKENS)

    with (
        httpx.Client(base_url=live_server, timeout=30, headers=bearer(LOCAL_USER)) as second_tab,
        answering(client, prompt) as answer,
    ):
        response, received = resume(second_tab, answer.conversation_id)
        original = answer.rest()

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    resumed = [r.event for r in received]
    kinds = [e["type"] for e in resumed]
    assert kinds[:4] == ["start", "data-conversation", "data-model", "text-start"]
    assert kinds[-3:] == ["text-end", "data-usage", "finish"]
    assert resumed[0] == original[0]  # the same message id
    assert streamed_text(resumed) == whole == streamed_text(original)
    assert of_type(resumed, "data-usage") == of_type(original, "data-usage")
    # It was followed live, not handed over at the end.
    deltas = [r.at for r in received if r.event["type"] == "text-delta"]
    assert deltas[-1] - deltas[0] > 1.0
    assert assistant_row(db, answer.conversation_id)[:2] == (whole, "complete")

    assert resume(client, answer.conversation_id)[0].status_code == 204  # nothing is generating now


# --- Two instances on one database ----------------------------------------------------------------


@pytest.fixture(scope="module")
def instances(database_url: str, simulator: ProviderSimulator) -> Iterator[tuple[AppServer, AppServer]]:
    """Two more instances of the app on the test database, each flushing every ``FLUSH_S``."""
    settings = make_settings(database_url, simulator, chat_flush_interval_s=FLUSH_S)
    with AppServer(settings) as a, AppServer(settings) as b:
        yield a, b


@pytest.fixture
def two_instances(instances: tuple[AppServer, AppServer]) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """A client on each instance, provider health and budgets forgotten (as ``live_server`` does)."""
    for server in instances:
        chat_parts = server.runtime.chat
        assert isinstance(chat_parts.health, MemoryHealthStore)
        assert isinstance(chat_parts.budgets, MemoryBudgetStore)
        chat_parts.health.clear()
        chat_parts.budgets.clear()
    a, b = instances
    with (
        httpx.Client(base_url=a.url, timeout=30, headers=bearer(LOCAL_USER)) as on_a,
        httpx.Client(base_url=b.url, timeout=30, headers=bearer(LOCAL_USER)) as on_b,
    ):
        yield on_a, on_b


def test_a_stop_sent_to_another_instance_stops_the_answer_at_its_next_flush(
    two_instances: tuple[httpx.Client, httpx.Client], db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    on_a, on_b = two_instances
    simulator.state.script("groq", slow())
    prompt = "generated on A, stopped from B"
    whole = simulated_answer(prompt, SLOW_TOKENS)
    before = provider_requests(simulator)

    with answering(on_a, prompt) as answer:
        streaming = provider_requests(simulator) - before
        assert len(streaming) == 1
        asked = time.monotonic()
        stop = on_b.post(f"/api/chat/{answer.conversation_id}/stop")
        events = answer.rest()
        ended = answer.received[-1].at

    assert stop.status_code == 200 and stop.json() == {"stopped": True}
    # B only sets the flag; A reads it back at its next flush.
    assert ended - asked < FLUSH_S + 0.6, f"the stream ended {ended - asked:.2f} s after the stop"
    wait_for(lambda: all(task.done() for task in streaming), within_s=1.0, what="the provider's stream closed")
    assert_stopped_with_what_was_said(events, db, whole, answer.conversation_id)
    assert on_b.post(f"/api/chat/{answer.conversation_id}/stop").json() == {"stopped": False}
    assert resume(on_b, answer.conversation_id)[0].status_code == 204


def test_another_instance_resumes_the_answer_through_the_database_exactly_once(
    two_instances: tuple[httpx.Client, httpx.Client], db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    on_a, on_b = two_instances
    simulator.state.script("groq", slow())
    prompt = "generated on A, read on B"
    whole = simulated_answer(prompt, SLOW_TOKENS)

    with answering(on_a, prompt) as answer:
        response, received = resume(on_b, answer.conversation_id)
        original = answer.rest()

    assert response.status_code == 200
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    resumed = [r.event for r in received]
    kinds = [e["type"] for e in resumed]
    assert kinds[:3] == ["start", "data-conversation", "text-start"]
    assert kinds[-3:] == ["text-end", "data-usage", "finish"]
    assert resumed[0] == original[0]  # the same message id
    assert of_type(resumed, "data-conversation")[0]["data"]["conversationId"] == answer.conversation_id
    assert streamed_text(resumed) == whole == streamed_text(original)
    # The saved facts are the ones A streamed, under the same names.
    assert of_type(resumed, "data-usage") == of_type(original, "data-usage")
    # What was saved so far, then each flush as it came: several pieces over the answer's life.
    deltas = [r.at for r in received if r.event["type"] == "text-delta"]
    assert len(deltas) >= 3 and deltas[-1] - deltas[0] > 1.0, f"{len(deltas)} pieces"
    assert assistant_row(db, answer.conversation_id)[:2] == (whole, "complete")
    assert resume(on_b, answer.conversation_id)[0].status_code == 204


def test_an_answer_that_fails_part_way_resumed_on_another_instance_ends_with_an_error(
    two_instances: tuple[httpx.Client, httpx.Client], db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    on_a, on_b = two_instances
    simulator.state.script("groq", slow().model_copy(update={"drop_after": 30}))
    simulator.state.script("gemini", Scenario(status=503), Scenario(status=503))  # nobody can continue it

    with answering(on_a, "an answer that breaks half-way") as answer:
        response, received = resume(on_b, answer.conversation_id)
        original = answer.rest()

    assert response.status_code == 200
    assert [e["type"] for e in original][-3:] == ["text-end", "data-usage", "error"]
    assert assistant_row(db, answer.conversation_id)[1] == "failed"
    resumed = [r.event for r in received]
    assert streamed_text(resumed) == streamed_text(original) != ""
    assert of_type(resumed, "data-usage") == of_type(original, "data-usage")
    # What a person resuming sees must say the answer broke off, as the first tab's stream did.
    assert [e["type"] for e in resumed][-3:] == ["text-end", "data-usage", "error"]
    assert of_type(resumed, "error") == of_type(original, "error"), "the same sentence as the first tab read"


# --- A process killed mid-answer ------------------------------------------------------------------


@pytest.fixture
def server_process(
    database_url: str, simulator: ProviderSimulator, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The app in a process of its own, flushing every ``FLUSH_S``; killed at the end if still alive."""
    port = free_port()
    settings = make_settings(database_url, simulator, chat_flush_interval_s=FLUSH_S)
    with app_process(settings, port=port, log_path=tmp_path / "server.log") as process:
        yield process, f"http://127.0.0.1:{port}"


def test_an_answer_whose_process_is_killed_keeps_its_text_reads_interrupted_and_frees_the_conversation(
    server_process: tuple[subprocess.Popen[bytes], str],
    client: httpx.Client,
    settings: LocalSettings,
    db: psycopg.Connection,
    simulator: ProviderSimulator,
) -> None:
    process, url = server_process
    simulator.state.script("groq", slow(tokens=200))  # about 10 s of answer
    prompt = "an answer its process does not live to finish"
    whole = simulated_answer(prompt, 200)

    # Given an answer being generated by a process, flushed at least once, when the process is killed
    with (
        httpx.Client(base_url=url, timeout=30, headers=bearer(LOCAL_USER)) as doomed,
        answering(doomed, prompt, deltas=1) as answer,
    ):
        conversation_id = answer.conversation_id
        wait_for(lambda: saved_text(db, conversation_id), within_s=3, what="a flush")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        killed = time.monotonic()

    # then the row keeps the text of its last flush, a prefix of the answer, and nothing writes it again
    saved, raw_status, _ = assistant_row(db, conversation_id)
    assert raw_status == "streaming"
    assert saved and whole.startswith(saved) and len(saved) < len(whole)
    messages = client.get(f"/api/conversations/{conversation_id}").json()["messages"]
    assert [m["status"] for m in messages] == ["complete", "streaming"]  # not stale yet

    # A resume opened now follows the row until it is stale, then says the answer was interrupted.
    response, received = resume(client, conversation_id)
    stale = time.monotonic() - killed
    assert response.status_code == 200
    resumed = [r.event for r in received]
    assert streamed_text(resumed) == saved
    assert [e["type"] for e in resumed][-2:] == ["text-end", "error"]
    assert resumed[-1]["errorText"] == words.ANSWER_INTERRUPTED
    assert not of_type(resumed, "finish")
    stale_after_s = settings.answer_stale_after_s
    assert stale_after_s - 1 < stale < stale_after_s + 3, f"read as interrupted {stale:.1f} s after the kill"

    messages = client.get(f"/api/conversations/{conversation_id}").json()["messages"]
    assert [(m["role"], m["status"]) for m in messages] == [("user", "complete"), ("assistant", "interrupted")]
    assert messages[1]["content"] == saved
    assert resume(client, conversation_id)[0].status_code == 204
    assert client.post(f"/api/chat/{conversation_id}/stop").json() == {"stopped": False}

    # An interrupted answer frees its conversation at once: nobody is answering there any more.
    status, events = chat(client, "once more, please", conversationId=conversation_id)
    assert status == 200 and of_type(events, "finish")
    assert time.monotonic() - killed < TURN_LEASE_S, "the new message waited for the dead turn's lease"
    rows = db.execute(
        "select role, content, status from messages where conversation_id = %s order by created_at",
        (conversation_id,),
    ).fetchall()
    assert [(role, status) for role, _, status in rows] == [
        ("user", "complete"),
        ("assistant", "interrupted"),  # written so by the turn that took the conversation
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert rows[1][1] == saved
    assert streamed_text(events) == rows[3][1]
