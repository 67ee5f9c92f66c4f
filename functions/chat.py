"""Chat function entry point: `POST /api/chat`, `GET /api/models` and `GET /api/health` under uvicorn.

In AWS the Lambda Web Adapter starts `run.sh`, which serves this app on $PORT and streams each
response back through the Function URL as it is written.
"""

from chimera.api.app import create_app
from chimera.settings import ChatSettings

app = create_app(ChatSettings(), features=frozenset({"chat"}))
