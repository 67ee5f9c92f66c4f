"""The stock AI SDK chat engine against a real Chimera: `ai` 5, 6 and 7, as an app built on them sees us.

Each test runs tests/clients/drive_chat.mjs in Node: `AbstractChat` with the default transport
(`DefaultChatTransport`, its own request body, the model as an extra field) sends one message to
the app on loopback (the simulator behind it) and prints the messages the engine ends up holding. What a
person would see is those messages: one answer, its text exactly once, and no error.

tests/clients/resume_chat.mjs drives `ai` 7 with its own reconnect URL too: a second reader joins an
answer mid-way with `reconnectToStream`, and the engine regenerates the answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer

from tests.conftest import LOCAL_USER, bearer

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
DRIVER = CLIENTS / "drive_chat.mjs"
ENGINES = ("ai5", "ai6", "ai7")  # npm aliases of ai@^5, ai@^6 and ai@^7 in tests/clients/package.json
TURN_TIMEOUT_S = 60  # the driver's own wait for the engine to settle; the process gets a little more


@dataclass(frozen=True)
class EngineState:
    """What the chat engine holds once the turn is over."""

    ai: str  # the exact version of the `ai` package that ran
    status: str  # submitted | streaming | ready | error
    error: str | None
    messages: list[dict[str, Any]]

    def assistant_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["role"] == "assistant"]


def text_of(message: dict[str, Any]) -> str:
    """The text a chat UI shows for a message: its text parts, in order."""
    return "".join(part["text"] for part in message["parts"] if part["type"] == "text")


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js (with npm), then run `make install`")
    return node


def drive(engine: str, base_url: str, message: str, *, model: str = "auto") -> EngineState:
    """One turn through the stock engine of ``ai`` alias ``engine``."""
    node = node_executable()
    if not (CLIENTS / "node_modules" / engine / "package.json").is_file():
        pytest.fail(f"the npm package {engine} is not installed in tests/clients: run `make install`")
    token = bearer(LOCAL_USER)["Authorization"].removeprefix("Bearer ")
    command = [node, str(DRIVER), "--ai", engine, "--base", base_url, "--message", message, "--model", model]
    command += ["--timeout-s", str(TURN_TIMEOUT_S)]
    completed = subprocess.run(
        command,
        env=os.environ | {"CHIMERA_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=TURN_TIMEOUT_S + 30,
        check=False,
    )
    assert completed.returncode == 0, f"drive_chat.mjs exited {completed.returncode}:\n{completed.stderr}"
    return EngineState(**json.loads(completed.stdout.splitlines()[-1]))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_plain_turn_shows_one_answer(engine: str, live_server: str) -> None:
    prompt = "What is streaming?"

    state = drive(engine, live_server, prompt)

    assert (state.status, state.error) == ("ready", None), state
    assert [m["role"] for m in state.messages] == ["user", "assistant"]
    assert text_of(state.messages[0]) == prompt
    assert text_of(state.assistant_messages()[0]) == simulated_answer(prompt)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_mid_stream_failover_ends_as_one_answer(
    engine: str, live_server: str, simulator: ProviderSimulator, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    # Given Groq cuts the connection after 5 of its 24 tokens: the client has text when it fails.
    simulator.state.script("groq", Scenario(drop_after=5))
    prompt = "Explain fallbacks"

    state = drive(engine, live_server, prompt, model="groq-llama-70b")

    # Then the engine ends ready, with one answer whose text is the whole answer exactly once.
    assert simulator.state.requests_to("groq"), "the turn started on Groq"
    assert (state.status, state.error) == ("ready", None), state
    answers = state.assistant_messages()
    assert len(answers) == 1, answers
    shown = text_of(answers[0])
    assert shown == simulated_answer(prompt), f"{engine} shows {shown!r}"
    # And the saved answer is what the person saw, naming the fallback.
    rows = db.execute("select content, metadata from messages where role = 'assistant'").fetchall()
    assert len(rows) == 1, rows
    content, metadata = rows[0]
    assert content == shown
    assert isinstance(metadata, dict) and metadata["fallbackReason"] is not None, metadata


# --- Resume and regenerate with the AI SDK's own body (issue 9) -----------------------------------

RESUMER = CLIENTS / "resume_chat.mjs"
SLOW_TOKENS = 40  # 0.05 s apart: about 2 s of answer, time for a second reader to join mid-answer


def run_resume_chat(base_url: str, message: str, *, reconnect_after_words: int) -> dict[str, dict[str, Any]]:
    """tests/clients/resume_chat.mjs (ai 7, no request glue): its JSON lines, by step."""
    node = node_executable()
    if not (CLIENTS / "node_modules" / "ai7" / "package.json").is_file():
        pytest.fail("the npm package ai7 is not installed in tests/clients: run `make install`")
    token = bearer(LOCAL_USER)["Authorization"].removeprefix("Bearer ")
    command = [node, str(RESUMER), "--base", base_url, "--message", message]
    command += ["--reconnect-after-words", str(reconnect_after_words), "--timeout-s", str(TURN_TIMEOUT_S)]
    completed = subprocess.run(
        command,
        env=os.environ | {"CHIMERA_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=3 * TURN_TIMEOUT_S + 30,
        check=False,
    )
    assert completed.returncode == 0, f"resume_chat.mjs exited {completed.returncode}:\n{completed.stderr}"
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return {line.pop("step"): line for line in lines}


def engine_state(step: dict[str, Any]) -> EngineState:
    return EngineState(ai=step["ai"], status=step["status"], error=step["error"], messages=step["messages"])


@pytest.mark.parametrize("words", [1, 10], ids=["at-the-first-word", "a-quarter-through"])
def test_ai7_with_its_own_body_resumes_mid_answer_once_and_regenerates(
    words: int, live_server: str, simulator: ProviderSimulator, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    # Given a slow answer from Groq (`auto` sends a short question to its small model), then a quick one.
    simulator.state.script("groq", Scenario(tokens=SLOW_TOKENS, token_delay_s=0.05, first_token_delay_s=0))
    prompt = "What is streaming?"
    whole = simulated_answer(prompt, SLOW_TOKENS)

    # When the stock engine sends it with the transport's own body, a second reader reconnects once
    # the engine shows `words` words, and the engine then regenerates the answer.
    steps = run_resume_chat(live_server, prompt, reconnect_after_words=words)

    # Then the engine shows the whole answer once, with no error.
    sent = engine_state(steps["send"])
    assert (sent.ai.split(".")[0], sent.status, sent.error) == ("7", "ready", None), sent
    assert [m["role"] for m in sent.messages] == ["user", "assistant"]
    assert text_of(sent.assistant_messages()[0]) == whole
    # And the reconnect was made mid-answer and read the whole answer, from its start, exactly once.
    resumed = steps["resume"]
    assert resumed["stream"] is True and resumed["statusAtReconnect"] == "streaming", resumed
    shown = resumed["shownAtReconnect"]
    assert len(shown.split()) >= words and whole.startswith(shown) and len(shown) < len(whole) / 2, resumed
    assert resumed["text"] == whole, resumed
    assert resumed["errors"] == [] and resumed["chunkTypes"].count("start") == 1, resumed
    assert resumed["chunkTypes"][-1] == "finish" and "error" not in resumed["chunkTypes"], resumed
    assert resumed["message"]["id"] == sent.assistant_messages()[0]["id"]  # the same answer, not another
    # And once the answer has ended there is nothing to reconnect to (a 204).
    assert steps["after-end"] == {"result": None}

    # And regenerating ends ready with one assistant message: the new answer.
    regenerated = engine_state(steps["regenerate"])
    assert (regenerated.status, regenerated.error) == ("ready", None), regenerated
    assert [m["role"] for m in regenerated.messages] == ["user", "assistant"]
    assert text_of(regenerated.assistant_messages()[0]) == simulated_answer(prompt)
    # And the chat's id is the conversation: the question once, the old answer replaced, the new one
    # complete, each answer's row the message the engine showed.
    rows = db.execute(
        "select id::text, role, content, status from messages where conversation_id = %s order by created_at",
        (steps["send"]["chatId"],),
    ).fetchall()
    assert [row[1:] for row in rows] == [
        ("user", prompt, "complete"),
        ("assistant", whole, "replaced"),
        ("assistant", simulated_answer(prompt), "complete"),
    ]
    assert [rows[1][0], rows[2][0]] == [sent.messages[1]["id"], regenerated.messages[1]["id"]]
