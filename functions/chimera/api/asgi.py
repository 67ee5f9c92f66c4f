"""Every route in one app built from the environment: `uvicorn chimera.api.asgi:app` (benchmarks, containers)."""

from chimera.api.app import create_app

app = create_app()
