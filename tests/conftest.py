"""Shared fixtures: a real Postgres, the provider simulator and the app on loopback.

No fixture ever points an SDK at a real provider: every base URL is the simulator's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from chimera.dev.local_identity import issue_token
from chimera.dev.settings import LocalSettings
from chimera.dev.simulator import ProviderSimulator
from chimera.store.memory import MemoryBudgetStore, MemoryHealthStore
from pydantic import SecretStr

from tests.support.servers import AppServer, postgres_server, scratch_database

LOCAL_USER = "00000000-0000-4000-8000-0000000000a1"
JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres_server(os.environ.get("DATABASE_URL"), tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(postgres_admin_url: str) -> Iterator[str]:
    with scratch_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def simulator() -> Iterator[ProviderSimulator]:
    sim = ProviderSimulator().start()
    yield sim
    sim.stop()


def make_settings(database_url: str, simulator: ProviderSimulator, **overrides: object) -> LocalSettings:
    values: dict[str, object] = {
        "chimera_stage": "test",
        "database_url": SecretStr(database_url),
        "groq_api_key": SecretStr("test-key"),
        "google_generative_ai_api_key": SecretStr("test-key"),
        "groq_base_url": simulator.groq_base_url,
        "google_gemini_base_url": simulator.gemini_base_url,
        "chimera_simulated_providers": True,
        "chimera_local_user_id": LOCAL_USER,
        "supabase_jwt_secret": SecretStr(JWT_SECRET),
        "chimera_dev_tokens": True,
        "first_token_timeout_s": 1.5,
        "stream_idle_timeout_s": 1.5,
        "retry_base_delay_s": 0.01,
        "sse_heartbeat_s": 0.4,
        # The suite chats a lot, as one person from one address: limits are tested where they are set low.
        "chat_rate_limit_per_minute": 10_000,
        "chat_rate_limit_per_ip_per_minute": 10_000,
        "chat_tokens_per_day": 1_000_000_000,
    }
    values.update(overrides)
    return LocalSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def settings(database_url: str, simulator: ProviderSimulator) -> LocalSettings:
    return make_settings(database_url, simulator)


@pytest.fixture(scope="session")
def app_server(settings: LocalSettings) -> Iterator[AppServer]:
    with AppServer(settings) as server:
        yield server


@pytest.fixture
def live_server(app_server: AppServer) -> str:
    """The app's base URL, with provider health and budgets forgotten so each test starts afresh."""
    chat = app_server.runtime.chat
    assert isinstance(chat.health, MemoryHealthStore) and isinstance(chat.budgets, MemoryBudgetStore)
    chat.health.clear()
    chat.budgets.clear()
    return app_server.url


def bearer(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(JWT_SECRET, user_id)}"}


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    """An HTTP client signed in as the local test person."""
    with httpx.Client(base_url=live_server, timeout=30, headers=bearer(LOCAL_USER)) as c:
        yield c


@pytest.fixture
def anonymous(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as c:
        yield c


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A superuser connection for looking at what the app wrote; tables start empty."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("truncate messages, conversations, ai_usage")
        yield conn


@pytest.fixture(autouse=True)
def _fresh_simulator(request: pytest.FixtureRequest) -> None:
    if {"simulator", "live_server", "client"} & set(request.fixturenames):
        request.getfixturevalue("simulator").state.reset()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
