"""The model catalogue meets the providers: retired ids, overrides, `GET /api/models`, `chimera models`.

Providers retire model ids every few months. A retired id must give the person an answer from
another model with a notice, stop traffic to that id on every instance, and be loud in the logs;
the catalogue must be configuration a deployer changes without touching code.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from chimera.dev.simulator import ProviderSimulator, Scenario, simulated_answer
from chimera.providers.catalogue import DEFAULT_FILE, load_catalogue

from tests.conftest import LOCAL_USER, bearer, make_settings
from tests.support.servers import AppServer
from tests.support.sse import iter_events, of_type, streamed_text

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue()
SMALL, LARGE, FLASH = (CATALOGUE.spec(k) for k in ("groq-llama-8b", "groq-llama-70b", "gemini-flash"))


def chat(client: httpx.Client, message: str, **extra: object) -> list[dict[str, object]]:
    with client.stream("POST", "/api/chat", json={"message": message, **extra}) as response:
        assert response.status_code == 200
        return [received.event for received in iter_events(response)]


@pytest.fixture
def router_log() -> Iterator[list[logging.LogRecord]]:
    """What the router logs (the app runs in this process, on a thread)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("chimera.providers.router")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_retired_model_gives_an_answer_from_its_sibling_with_a_notice(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator, router_log: list[logging.LogRecord]
) -> None:
    simulator.state.retire("groq", SMALL.provider_model)  # the provider shut it down overnight

    events = chat(client, "hi")  # auto sends a short question to the small model

    model = of_type(events, "data-model")[0]["data"]
    assert (model["model"], model["providerModel"]) == ("groq-llama-70b", LARGE.provider_model)
    assert model["fallbackReason"] == "Groq fast is no longer offered by its provider"
    assert not of_type(events, "error") and of_type(events, "finish")
    assert streamed_text(events) == simulated_answer("hi")
    saved = db.execute("select content from messages where role = 'assistant'").fetchone()
    assert saved == (simulated_answer("hi"),)
    errors = [r for r in router_log if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].__dict__["providerModel"] == SMALL.provider_model
    assert "update CHIMERA_MODELS_FILE" in errors[0].getMessage()


def test_a_retired_model_is_not_asked_again_and_the_page_is_told(
    client: httpx.Client, anonymous: httpx.Client, simulator: ProviderSimulator
) -> None:
    simulator.state.retire("groq", SMALL.provider_model)
    chat(client, "first")
    asked = len(simulator.state.requests_to("groq"))

    events = chat(client, "second")

    to_small = [r for r in simulator.state.requests_to("groq")[asked:] if r.model == SMALL.provider_model]
    assert to_small == []  # resting for hours: no instance spends a request on it
    assert (
        of_type(events, "data-model")[0]["data"]["fallbackReason"] == "Groq fast is no longer offered by its provider"
    )
    listed = {m["id"]: m for m in anonymous.get("/api/models").json()["models"]}
    assert (listed["groq-llama-8b"]["status"], listed["groq-llama-8b"]["available"]) == ("retired", False)
    assert listed["groq-llama-70b"]["available"] and listed["auto"]["available"]


def test_a_retired_gemini_model_falls_back_to_groq(client: httpx.Client, simulator: ProviderSimulator) -> None:
    simulator.state.retire("gemini", FLASH.provider_model)

    events = chat(client, "hello gemini", model="gemini-flash")

    model = of_type(events, "data-model")[0]["data"]
    assert (model["provider"], model["providerModel"]) == ("groq", LARGE.provider_model)
    assert model["fallbackReason"] == "Gemini Flash is no longer offered by its provider"
    assert streamed_text(events) == simulated_answer("hello gemini")


def test_the_models_route_lists_the_choices_with_labels(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/models")

    assert response.status_code == 200
    listed = response.json()
    assert listed["default"] == "auto"
    assert [(m["id"], m["label"], m["status"]) for m in listed["models"]] == [
        ("auto", "Auto", "ok"),
        ("groq-llama-70b", LARGE.label, "ok"),
        ("groq-llama-8b", SMALL.label, "ok"),
        ("gemini-flash", FLASH.label, "ok"),
    ]
    assert listed["models"][1]["providerModel"] == LARGE.provider_model


def test_a_models_file_changes_the_ids_the_providers_receive(
    tmp_path: Path, database_url: str, simulator: ProviderSimulator
) -> None:
    override = tmp_path / "models.toml"
    override.write_text(DEFAULT_FILE.read_text().replace(SMALL.provider_model, "groq/compound-mini"))
    settings = make_settings(database_url, simulator, chimera_models_file=str(override))

    with AppServer(settings) as server, httpx.Client(base_url=server.url, headers=bearer(LOCAL_USER)) as client:
        events = chat(client, "hi")

    assert of_type(events, "data-model")[0]["data"]["providerModel"] == "groq/compound-mini"
    assert [r.model for r in simulator.state.requests_to("groq")] == ["groq/compound-mini"]


def test_a_broken_models_file_is_a_503_that_names_the_file(
    tmp_path: Path, database_url: str, simulator: ProviderSimulator
) -> None:
    broken = tmp_path / "models.toml"
    broken.write_text(DEFAULT_FILE.read_text().replace('key = "gemini-flash"', 'key = "gemini-pro"'))
    settings = make_settings(database_url, simulator, chimera_models_file=str(broken))

    with AppServer(settings) as server:
        health = httpx.get(f"{server.url}/api/health")

    assert health.status_code == 503
    detail = health.json()["detail"]
    assert detail.startswith(f"The model catalogue {broken} is not valid") and "models.2.key" in detail


# --- `chimera models`: a deploy pipeline's check -----------------------------------------------


def run_models_check(simulator: ProviderSimulator, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GROQ_", "GOOGLE_", "CHIMERA_"))}
    environment |= {
        "GROQ_API_KEY": "gsk_simulated",
        "GOOGLE_GENERATIVE_AI_API_KEY": "AIza_simulated",
        "GROQ_BASE_URL": simulator.groq_base_url,
        "GOOGLE_GEMINI_BASE_URL": simulator.gemini_base_url,
    } | env
    return subprocess.run(
        [sys.executable, "-m", "chimera.dev.cli", "models"],
        env=environment,
        cwd=ROOT / "functions",  # no .env here
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chimera_models_passes_when_every_id_is_served(simulator: ProviderSimulator) -> None:
    result = run_models_check(simulator)

    assert result.returncode == 0, result.stdout + result.stderr
    for spec in CATALOGUE.models:
        line = next(line for line in result.stdout.splitlines() if f" {spec.provider_model} " in line)
        assert line.rstrip().endswith("served")
    assert len(simulator.state.listings) >= 3  # Groq once, Gemini page after page


def test_chimera_models_fails_a_pipeline_when_an_id_is_retired(simulator: ProviderSimulator, tmp_path: Path) -> None:
    stale = tmp_path / "models.toml"
    stale.write_text(DEFAULT_FILE.read_text().replace(LARGE.provider_model, "llama-3.3-70b-versatile"))

    result = run_models_check(simulator, CHIMERA_MODELS_FILE=str(stale))

    assert result.returncode == 1
    assert "llama-3.3-70b-versatile" in result.stdout and "NOT SERVED" in result.stdout
    assert "update CHIMERA_MODELS_FILE" in result.stdout


# --- What a provider sends cannot make a shown answer go unsaved --------------------------------


def test_an_answer_with_nul_and_a_lone_surrogate_is_shown_and_saved_the_same(
    client: httpx.Client, db: psycopg.Connection, simulator: ProviderSimulator
) -> None:
    simulator.state.script("groq", Scenario(shape="markdown", oddities=["nul", "lone_surrogate", "bom", "crlf"]))

    events = chat(client, "write something odd")

    shown = streamed_text(events)
    expected = simulated_answer(
        "write something odd", shape="markdown", oddities=["nul", "lone_surrogate", "bom", "crlf"]
    )
    assert shown == expected.replace("\x00", "\ufffd").replace("\ud800", "\ufffd")
    assert "\ufeff" in shown and "\r\n" in shown and "東京" in shown  # everything else arrives untouched
    assert of_type(events, "finish") and not of_type(events, "error")
    assert db.execute("select content from messages where role = 'assistant'").fetchone() == (shown,)


def test_when_every_model_is_retired_the_person_is_told_waiting_will_not_help(
    client: httpx.Client, simulator: ProviderSimulator
) -> None:
    for spec in (SMALL, LARGE, FLASH):
        simulator.state.retire(spec.provider, spec.provider_model)

    events = chat(client, "hello")

    (error,) = of_type(events, "error")
    assert str(error["errorText"]).endswith("Please tell whoever runs this Chimera to update its model catalogue.")
    assert "try again" not in str(error["errorText"])
    assert not of_type(events, "data-retry")
