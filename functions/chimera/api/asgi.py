"""Every route in one app built from the environment: `uvicorn chimera.api.asgi:app` (benchmarks, containers).

It reads ``ChatSettings``, the superset every route needs.
"""

from chimera.api.app import ALL_FEATURES, create_app
from chimera.settings import ChatSettings

app = create_app(ChatSettings(), features=ALL_FEATURES)
