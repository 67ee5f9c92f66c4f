"""Logs and metrics through Powertools, configured in one place.

The Powertools logger is named after the service, so every ``chimera.*`` module logger propagates
into it and comes out as JSON with the correlation id. Nothing here ever receives a prompt, an
answer or a secret: callers pass counts, names and durations only.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "chimera"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Chimera", service=SERVICE)

_emit_metrics = False


def configure(*, emit_metrics: bool) -> None:
    """Metrics go out as CloudWatch EMF on stdout in AWS; elsewhere they are not collected."""
    global _emit_metrics
    _emit_metrics = emit_metrics


def record_turn(*, provider: str | None, ttft_ms: int | None, tokens: int, fallback: bool, failed: bool) -> None:
    if not _emit_metrics:
        return
    # No await between adding and flushing, so concurrent turns never mix their metrics.
    if provider:
        metrics.add_dimension(name="provider", value=provider)
    if ttft_ms is not None:
        metrics.add_metric(name="TimeToFirstToken", unit=MetricUnit.Milliseconds, value=ttft_ms)
    metrics.add_metric(name="Tokens", unit=MetricUnit.Count, value=tokens)
    metrics.add_metric(name="Fallbacks", unit=MetricUnit.Count, value=int(fallback))
    metrics.add_metric(name="FailedTurns", unit=MetricUnit.Count, value=int(failed))
    metrics.flush_metrics()


def record_provider_error(*, provider: str, kind: str) -> None:
    _count("ProviderErrors", provider=provider, kind=kind)


def record_model_gone(*, provider: str, provider_model: str) -> None:
    """A provider said it does not serve a catalogue model: alarm on this, then edit the catalogue."""
    _count("ModelGone", provider=provider, providerModel=provider_model)


def _count(metric: str, **dimensions: str) -> None:
    if not _emit_metrics:
        return
    for name, value in dimensions.items():
        metrics.add_dimension(name=name, value=value)
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
