"""Lambda entry point: the usage API (`/api/usage`) behind the HTTP API."""

from chimera.api.lambda_handlers import lambda_handler
from chimera.settings import UsageSettings

handler = lambda_handler(UsageSettings(), "usage")
