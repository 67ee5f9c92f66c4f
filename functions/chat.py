"""Chat function entry point: `POST /api/chat` and `GET /api/health` under uvicorn.

In AWS the Lambda Web Adapter starts `run.sh`, which serves this app on $PORT and streams each
response back through the Function URL as it is written.
"""

from chimera.api.app import create_app

app = create_app(features=frozenset({"chat"}))
