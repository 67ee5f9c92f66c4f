"""The app built from the environment, for `uvicorn chimera.api.asgi:app` (the chat Lambda, benchmarks)."""

from chimera.api.app import create_app

app = create_app()
