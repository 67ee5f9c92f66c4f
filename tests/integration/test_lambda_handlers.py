"""Each Lambda as it is deployed: its template's environment, its secrets, `prod` stage, its real handler.

The environment of every function is read from the synthesized template (the session's one CDK
synth); the secrets it names are created in moto's Secrets Manager, served on loopback so boto3
(through Powertools) reaches it over real HTTP like AWS. History and usage go through their real
Mangum handlers with the sample events under tests/events/; the chat function is started with
run.sh and reached over HTTP on its port, as the Lambda Web Adapter reaches it. The only settings
not from the template are the providers' base URLs (the simulator) and the AWS endpoint (moto).
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from chimera.dev.simulator import ProviderSimulator, simulated_answer
from chimera.settings import ChatSettings
from moto.server import ThreadedMotoServer

from tests.conftest import JWT_SECRET, LOCAL_USER, bearer
from tests.support.lambda_context import LambdaContext
from tests.support.servers import free_port
from tests.support.sse import iter_events, of_type, streamed_text
from tests.support.templates import (
    Synth,
    data_exports,
    function_environment,
    resolve_environment,
    synthesized,  # noqa: F401  (the session's synth fixture)
)

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
ORIGIN_SECRET = "cloudfront-adds-this-0123456789abcdefghijklmnopqrstuv"
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
# Settings a developer's shell or .env may hold: a deployed function has only its template's.
LEAKY = ("DATABASE_URL", "SUPABASE_JWT_SECRET", "SUPABASE_URL", "GROQ_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY")


@dataclass(frozen=True)
class AwsWorld:
    endpoint: str
    secrets: dict[str, str]  # kind ("app", "providers", "origin", "empty") -> ARN
    table: str


@pytest.fixture(scope="module")
def aws(database_url: str) -> Iterator[AwsWorld]:
    """moto on loopback with the Data stack's secrets filled in as a deployer would, and its table."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client_args: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": "eu-west-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    secrets_client = boto3.client("secretsmanager", **client_args)
    values = {
        "app": {"DATABASE_URL": database_url, "SUPABASE_JWT_SECRET": JWT_SECRET},
        "providers": {"GROQ_API_KEY": "gsk_simulated", "GOOGLE_GENERATIVE_AI_API_KEY": "AIza_simulated"},
        "origin": {"CHIMERA_ORIGIN_SECRET": ORIGIN_SECRET},
        "empty": {},  # how the Data stack creates the app and provider secrets
    }
    arns = {
        kind: secrets_client.create_secret(Name=f"chimera/test/{kind}", SecretString=json.dumps(value))["ARN"]
        for kind, value in values.items()
    }
    table = "chimera-test-runtime-state"
    boto3.client("dynamodb", **client_args).create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield AwsWorld(endpoint=endpoint, secrets=arns, table=table)
    server.stop()


def deployed_environment(synth: Synth, function: str, aws: AwsWorld, **kinds: str) -> dict[str, str]:
    """The function's template environment with the Data stack's exports resolved to ``aws``'s."""
    values = {kind: aws.secrets[kind] for kind in ("app", "providers", "origin")} | {"state_table": aws.table}
    values |= {kind: aws.secrets[replacement] for kind, replacement in kinds.items()}
    environment = function_environment(synth.templates["api"], function)
    resolved = resolve_environment(environment, data_exports(synth.templates), values)
    return resolved | {
        "AWS_ENDPOINT_URL": aws.endpoint,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    }


@pytest.fixture
def deploy_as(monkeypatch: pytest.MonkeyPatch, synthesized: Synth, aws: AwsWorld) -> Callable[..., None]:  # noqa: F811
    """Put the process in a deployed function's environment (only it: nothing from the shell)."""

    def apply(function: str, **kinds: str) -> None:
        for name in LEAKY:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.chdir(ROOT / "functions")  # as in Lambda: no .env file beside the code
        for name, value in deployed_environment(synthesized, function, aws, **kinds).items():
            monkeypatch.setenv(name, value)

    return apply


def event(
    name: str, *, conversation_id: str = "", token_for: str | None = LOCAL_USER, origin: bool = True
) -> dict[str, Any]:
    text = (EVENTS / f"{name}.json").read_text().replace("CONVERSATION_ID", conversation_id)
    data: dict[str, Any] = json.loads(text)
    if token_for is None:
        del data["headers"]["authorization"]
    else:
        data["headers"]["authorization"] = bearer(token_for)["Authorization"]
    if origin:  # CloudFront adds it to every request it forwards to an origin
        data["headers"]["x-chimera-origin"] = ORIGIN_SECRET
    return data


def load_handler(module: str) -> Handler:
    """The function's module, imported afresh (as a cold start does) with the current environment."""
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


def test_the_history_function_serves_every_route_in_prod_with_only_the_app_secret(
    deploy_as: Callable[..., None], conversation_id: str
) -> None:
    deploy_as("Chimera history")
    assert os.environ["CHIMERA_STAGE"] == "prod" and "GROQ_API_KEY" not in os.environ
    handler = load_handler("history")
    context = LambdaContext(function_name="chimera-history")

    listed = handler(event("history_list"), context)
    assert listed["statusCode"] == 200, body(listed)
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


def test_a_request_that_bypasses_cloudfront_gets_nothing(deploy_as: Callable[..., None]) -> None:
    deploy_as("Chimera history")
    handler = load_handler("history")

    direct = handler(event("history_list", origin=False), LambdaContext())
    forged = event("history_list")
    forged["headers"]["x-chimera-origin"] = ORIGIN_SECRET[:-1] + "?"
    guessed = handler(forged, LambdaContext())

    for response in (direct, guessed):
        assert response["statusCode"] == 403
        assert response["headers"]["content-type"] == "application/problem+json"
        assert "items" not in body(response)


def test_the_history_function_refuses_a_missing_token(deploy_as: Callable[..., None]) -> None:
    deploy_as("Chimera history")
    response = load_handler("history")(event("history_list", token_for=None), LambdaContext())

    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == 'Bearer realm="chimera"'


def test_an_unfilled_app_secret_is_a_503_that_names_what_to_put_where(deploy_as: Callable[..., None]) -> None:
    deploy_as("Chimera history", app="empty")
    response = load_handler("history")(event("history_list"), LambdaContext())

    assert response["statusCode"] == 503
    assert response["headers"]["retry-after"] == "15"
    # The template carries SUPABASE_URL (context supabaseUrl), so only the database is missing.
    assert body(response)["detail"] == (
        "The database URL is not set. Please put DATABASE_URL in one of the secrets chimera/test/empty or "
        "chimera/test/origin."
    )  # none of them is named .../app here; the deployed one is, and is named alone (below)


def test_the_sentence_names_the_secret_that_owns_the_missing_value() -> None:
    ids = "arn:aws:secretsmanager:eu-west-1:1:secret:chimera/dev/app-AbCdEf,chimera/dev/providers,chimera/dev/origin"
    unset = dict.fromkeys(name.lower() for name in LEAKY)  # whatever the caller's environment holds
    settings = ChatSettings(_env_file=None, chimera_secret_ids=ids, **unset)  # type: ignore[call-arg]
    assert settings.missing() == [
        "The database URL is not set. Please put DATABASE_URL in the secret chimera/dev/app.",
        "Sign-in is not configured. Please put SUPABASE_JWT_SECRET or SUPABASE_URL in the secret chimera/dev/app.",
        "The provider keys are not set. Please put GROQ_API_KEY and/or GOOGLE_GENERATIVE_AI_API_KEY "
        "in the secret chimera/dev/providers.",
    ]


def test_the_usage_function_reports_the_persons_usage_in_prod(
    deploy_as: Callable[..., None], db: psycopg.Connection, conversation_id: str
) -> None:  # db (which empties the tables) comes before conversation_id (which makes one)
    deploy_as("Chimera usage")
    today = datetime.now(UTC).date().isoformat()
    usage_event = event("usage")
    usage_event["queryStringParameters"] = {"from": today, "to": today}
    usage_event["rawQueryString"] = f"from={today}&to={today}"

    response = load_handler("usage")(usage_event, LambdaContext(function_name="chimera-usage"))

    assert response["statusCode"] == 200, body(response)
    report = body(response)
    assert (report["from"], report["to"]) == (today, today)
    turns, tokens = db.execute(  # the same UTC day as asked, so a run across midnight still agrees
        "select count(*), sum(tokens_used) from ai_usage"
        " where user_id = %s and (created_at at time zone 'UTC')::date = %s::date",
        (LOCAL_USER, today),
    ).fetchone() or (0, 0)
    assert turns >= 1
    assert (report["totals"]["turns"], report["totals"]["tokens"]) == (turns, tokens)
    assert [d["day"] for d in report["byDay"]] == [today]


def test_history_routes_are_not_served_by_the_usage_function(deploy_as: Callable[..., None]) -> None:
    deploy_as("Chimera usage")
    response = load_handler("usage")(event("history_list"), LambdaContext())
    assert response["statusCode"] == 404


# --- The chat function: run.sh under uvicorn, as the Web Adapter runs it ------------------------


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
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


@pytest.fixture
def run_chat(
    synthesized: Synth,  # noqa: F811
    aws: AwsWorld,
    simulator: ProviderSimulator,
) -> Iterator[Callable[..., str]]:
    """Start the chat function with run.sh in its deployed environment; gives its base URL."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**kinds: str) -> str:
        port = free_port()
        env = deployed_environment(synthesized, "Chimera chat", aws, **kinds) | {
            "PATH": os.environ["PATH"],
            "PORT": str(port),  # the template says 8080; each test needs its own
            "GROQ_BASE_URL": simulator.groq_base_url,
            "GOOGLE_GEMINI_BASE_URL": simulator.gemini_base_url,
        }
        proc = subprocess.Popen(
            ["sh", str(ROOT / "functions" / "run.sh")], env=env, stderr=subprocess.PIPE, cwd=ROOT / "functions"
        )
        started.append(proc)
        _wait_for_port(port, proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_chat_function_streams_in_prod_through_run_sh(run_chat: Callable[..., str]) -> None:
    url = run_chat()
    origin = {"x-chimera-origin": ORIGIN_SECRET}
    url_event = event("chat_function_url")
    forwarded = {k: v for k, v in url_event["headers"].items() if k not in {"host", "content-length"}}
    with httpx.stream(
        url_event["requestContext"]["http"]["method"],
        f"{url}{url_event['rawPath']}",
        content=url_event["body"],
        headers=forwarded,
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
        events = [received.event for received in iter_events(response)]
    assert streamed_text(events) == simulated_answer("Hello from a Function URL event")
    model = of_type(events, "data-model")[0]["data"]
    assert model["simulated"] is False and model["providerModel"] == "openai/gpt-oss-20b"
    assert of_type(events, "finish")

    health = httpx.get(f"{url}/api/health", headers=origin, timeout=10)
    assert health.status_code == 200 and health.json()["providers"] == ["gemini", "groq"]
    models = httpx.get(f"{url}/api/models", headers=origin, timeout=10).json()
    assert [m["id"] for m in models["models"]] == ["auto", "groq-llama-70b", "groq-llama-8b", "gemini-flash"]
    # Only the chat function's routes are mounted here, and only CloudFront gets an answer.
    assert httpx.get(f"{url}/api/usage", headers=bearer(LOCAL_USER) | origin).status_code == 404
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 403


def test_the_chat_function_starts_with_empty_provider_keys_and_says_so(run_chat: Callable[..., str]) -> None:
    url = run_chat(providers="empty")
    health = httpx.get(f"{url}/api/health", headers={"x-chimera-origin": ORIGIN_SECRET}, timeout=10)

    assert health.status_code == 503
    assert health.headers["content-type"] == "application/problem+json"
    assert health.json()["detail"] == (
        "The provider keys are not set. Please put GROQ_API_KEY and/or GOOGLE_GENERATIVE_AI_API_KEY in one of the "
        "secrets chimera/test/app, chimera/test/empty or chimera/test/origin."
    )  # the test's stand-in is not named .../providers, so every secret the function reads is named
