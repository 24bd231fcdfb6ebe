"""``GET /metrics``: what every process counts (:mod:`app.core.metrics`) and what the database says at
scrape time, the same whichever process answers: the webhook outbox's backlog and each scheduled job's lag.

Served only with ``Authorization: Bearer <XINYI_METRICS_TOKEN>``. If the database cannot be read, the
process's own series are still served (a scrape during an outage is when they matter most).
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.core import metrics
from app.core.clock import utcnow
from app.core.errors import NotFound, Unauthenticated
from app.core.idempotency import AppRoute
from app.core.security import constant_time_equal
from app.jobs import service as jobs_service
from app.webhooks import tasks as webhooks_tasks

router = APIRouter(route_class=AppRoute, tags=["health"])
log = structlog.get_logger("app.monitoring")


class DatabaseCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        try:
            depth, oldest = webhooks_tasks.outbox_backlog(self.engine, now)
            lags = jobs_service.lags(self.engine, now)
        except SQLAlchemyError as exc:
            metrics.DB_ERRORS.labels(type(exc).__name__).inc()
            log.warning("metrics_database_unreadable", error_type=type(exc).__name__)
            return
        yield GaugeMetricFamily(
            "xinyi_webhook_outbox_depth", "Webhook deliveries waiting to be sent or retried.", value=depth
        )
        yield GaugeMetricFamily(
            "xinyi_webhook_outbox_oldest_age_seconds",
            "Age of the oldest webhook delivery still waiting (0 when none).",
            value=oldest,
        )
        lag = GaugeMetricFamily(
            "xinyi_job_lag_seconds",
            "How far each scheduled job is behind its schedule (0 when on time).",
            labels=["job"],
        )
        for job, seconds in lags.items():
            lag.add_metric([job], seconds)
        yield lag


@router.get("/metrics", include_in_schema=False)
def metrics_exposition(request: Request) -> Response:
    """Prometheus metrics, for a scraper that sends ``Authorization: Bearer <XINYI_METRICS_TOKEN>``."""
    token = request.app.state.settings.metrics_token.get_secret_value()
    if not token:
        raise NotFound("Metrics are not served: set XINYI_METRICS_TOKEN to turn them on.")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_equal(presented.strip(), token):
        raise Unauthenticated(
            "Send the metrics token as a bearer token.", headers={"WWW-Authenticate": "Bearer"}
        )
    body, content_type = metrics.render(DatabaseCollector(request.app.state.engine))
    return Response(body, media_type=content_type)
