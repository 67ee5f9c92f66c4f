"""Each Lambda driven the way AWS drives it: the sample events under tests/events/.

History and usage go through their real Mangum handlers in-process; the chat function is started
with run.sh and reached over HTTP on its port, as the Lambda Web Adapter reaches it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest
from chimera.dev.simulator import ProviderSimulator, simulated_answer

from tests.conftest import JWT_SECRET, LOCAL_USER, bearer
from tests.support.lambda_context import LambdaContext
from tests.support.servers import free_port
from tests.support.sse import iter_events, of_type, streamed_text

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def event(name: str, *, conversation_id: str = "", token_for: str | None = LOCAL_USER) -> dict[str, Any]:
    text = (EVENTS / f"{name}.json").read_text().replace("CONVERSATION_ID", conversation_id)
    data: dict[str, Any] = json.loads(text)
    if token_for is None:
        del data["headers"]["authorization"]
    else:
        data["headers"]["authorization"] = bearer(token_for)["Authorization"]
    return data


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    for name, value in {
        "CHIMERA_STAGE": "test",
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": JWT_SECRET,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    yield


def load_handler(module: str) -> Handler:
    spec = importlib.util.spec_from_file_location(f"lambda_{module}", ROOT / "functions" / f"{module}.py")
    assert spec is not None and spec.loader is not None
    loaded: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    handler: Handler = loaded.handler
    return handler


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


@pytest.fixture
def conversation_id(client: httpx.Client) -> str:
    with client.stream("POST", "/api/chat", json={"message": "made before the Lambda tests"}) as response:
        events = [received.event for received in iter_events(response)]
    return str(of_type(events, "data-conversation")[0]["data"]["conversationId"])


def test_history_handler_serves_every_route(lambda_env: None, conversation_id: str) -> None:
    handler = load_handler("history")
    context = LambdaContext(function_name="chimera-history")

    listed = handler(event("history_list"), context)
    assert listed["statusCode"] == 200
    assert listed["headers"]["content-type"] == "application/json"
    assert conversation_id in [c["id"] for c in body(listed)["items"]]

    read = handler(event("history_get", conversation_id=conversation_id), context)
    assert read["statusCode"] == 200 and len(body(read)["messages"]) == 2

    renamed = handler(event("history_rename", conversation_id=conversation_id), context)
    assert renamed["statusCode"] == 200 and body(renamed)["title"] == "Renamed from a Lambda event"

    deleted = handler(event("history_delete", conversation_id=conversation_id), context)
    assert deleted["statusCode"] == 204
    gone = handler(event("history_get", conversation_id=conversation_id), context)
    assert gone["statusCode"] == 404 and gone["headers"]["content-type"] == "application/problem+json"


def test_history_handler_refuses_a_missing_token(lambda_env: None) -> None:
    response = load_handler("history")(event("history_list", token_for=None), LambdaContext())

    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == 'Bearer realm="chimera"'


def test_usage_handler_reports_the_persons_usage(
    lambda_env: None, db: psycopg.Connection, conversation_id: str
) -> None:  # db (which empties the tables) comes before conversation_id (which makes one)
    today = datetime.now(UTC).date().isoformat()
    usage_event = event("usage")
    usage_event["queryStringParameters"] = {"from": today, "to": today}
    usage_event["rawQueryString"] = f"from={today}&to={today}"

    response = load_handler("usage")(usage_event, LambdaContext(function_name="chimera-usage"))

    assert response["statusCode"] == 200
    report = body(response)
    assert (report["from"], report["to"]) == (today, today)
    turns, tokens = db.execute(
        "select count(*), sum(tokens_used) from ai_usage where user_id = %s", (LOCAL_USER,)
    ).fetchone() or (0, 0)
    assert turns >= 1
    assert (report["totals"]["turns"], report["totals"]["tokens"]) == (turns, tokens)
    assert [d["day"] for d in report["byDay"]] == [today]


def test_history_routes_are_not_served_by_the_usage_function(lambda_env: None) -> None:
    response = load_handler("usage")(event("history_list"), LambdaContext())
    assert response["statusCode"] == 404


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """The Web Adapter's TCP readiness check: ready once the port accepts a connection."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run.sh exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("run.sh never listened")


def test_chat_function_streams_through_run_sh_like_the_web_adapter(
    database_url: str, simulator: ProviderSimulator
) -> None:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(port),
        "CHIMERA_STAGE": "test",
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": JWT_SECRET,
        "GROQ_API_KEY": "test-key",
        "GOOGLE_GENERATIVE_AI_API_KEY": "test-key",
        "GROQ_BASE_URL": simulator.groq_base_url,
        "GOOGLE_GEMINI_BASE_URL": simulator.gemini_base_url,
        "CHIMERA_SIMULATED_PROVIDERS": "true",
        "CHIMERA_SERVE_FRONTEND": "false",
    }
    proc = subprocess.Popen(["sh", str(ROOT / "functions" / "run.sh")], env=env, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, proc)
        url_event = event("chat_function_url")
        forwarded = {k: v for k, v in url_event["headers"].items() if k not in {"host", "content-length"}}
        with httpx.stream(
            url_event["requestContext"]["http"]["method"],
            f"http://127.0.0.1:{port}{url_event['rawPath']}",
            content=url_event["body"],
            headers=forwarded,
            timeout=30,
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
            events = [received.event for received in iter_events(response)]
        assert streamed_text(events) == simulated_answer("Hello from a Function URL event")
        assert of_type(events, "finish")
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10)
        assert health.status_code == 200
        # Only the chat function's routes are mounted here.
        assert httpx.get(f"http://127.0.0.1:{port}/api/usage", headers=bearer(LOCAL_USER)).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
