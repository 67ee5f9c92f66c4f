"""Lambda entry point: the usage API (`/api/usage`) behind the HTTP API."""

from chimera.api.lambda_handlers import lambda_handler

handler = lambda_handler("usage")
