"""Request/response Lambdas: one FastAPI router each, wrapped with Mangum.

Mangum's lifespan would start and stop the app on every invocation, so it is off; the runtime
(pool, verifier) starts on the first request and stays warm with the instance.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from chimera.api.app import Feature, create_app
from chimera.api.problems import PROBLEM
from chimera.observability import SERVICE, logger, metrics
from chimera.settings import CoreSettings

Handler = Any  # (event: dict, context: LambdaContext) -> dict


def lambda_handler(settings: CoreSettings, feature: Feature) -> Handler:
    """The Lambda handler serving ``feature``'s routes, built from that function's own settings."""
    tracer = Tracer(service=SERVICE)
    # Problems are text: without this Mangum would base64 them like a binary body.
    text = [*DEFAULT_TEXT_MIME_TYPES, PROBLEM]
    adapter = Mangum(create_app(settings, features=frozenset({feature})), lifespan="off", text_mime_types=text)

    # One decorator order for every handler; capture_response=False keeps bodies out of traces.
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        response: dict[str, Any] = adapter(event, context)  # type: ignore[arg-type]  # same shape, two stubs
        return response

    return handler
