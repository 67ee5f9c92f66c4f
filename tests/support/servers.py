"""Real servers for tests: a scratch Postgres database and the app on a loopback port."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import uvicorn
from chimera.dev.app import create_local_app
from chimera.dev.settings import LocalSettings
from chimera.runtime import Runtime
from chimera.store.migrate import apply_migrations
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr


@contextmanager
def postgres_server(database_url: str | None, scratch_dir: Path) -> Iterator[str]:
    """DATABASE_URL when set, otherwise an embedded Postgres deleted afterwards."""
    if database_url:
        yield database_url
        return
    from chimera.dev.embedded_postgres import start_embedded_postgres

    yield start_embedded_postgres(scratch_dir / "pgdata", keep=False)


@contextmanager
def scratch_database(admin_url: str, *, migrate: bool = True) -> Iterator[str]:
    """A fresh database on the server of ``admin_url``, dropped afterwards."""
    name = f"chimera_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_conninfo(admin_url, dbname=name)
    try:
        if migrate:
            asyncio.run(apply_migrations(url))
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def database_name(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppServer:
    """The real app under uvicorn in a thread, reached over real HTTP like a browser would."""

    def __init__(self, settings: LocalSettings) -> None:
        self.port = free_port()
        self.app = create_local_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="chimera-app", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def runtime(self) -> Runtime:
        runtime = self.app.state.runtime_holder.runtime
        assert runtime is not None, "the app starts its runtime before it serves"
        return runtime

    def __enter__(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


# --- The app in a process of its own (one a test can kill) ---------------------------------------

_SERVE = """
import json, sys

import uvicorn
from chimera.dev.app import create_local_app
from chimera.dev.settings import LocalSettings

settings = LocalSettings(_env_file=None, **json.loads(sys.argv[1]))
uvicorn.run(create_local_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
_FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def _settings_json(settings: LocalSettings) -> str:
    """The settings given explicitly, secrets revealed, for a process of its own."""
    values = {name: getattr(settings, name) for name in settings.model_fields_set}
    return json.dumps({k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()})


@contextmanager
def app_process(settings: LocalSettings, *, port: int, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The app in a process of its own on ``port``, ready to serve; killed at the end if still alive."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, _settings_json(settings), str(port)],
            cwd=_FUNCTIONS,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server process did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
