"""Lambda entry point: the history API (`/api/conversations…`) behind the HTTP API."""

from chimera.api.lambda_handlers import lambda_handler
from chimera.settings import HistorySettings

handler = lambda_handler(HistorySettings(), "history")
