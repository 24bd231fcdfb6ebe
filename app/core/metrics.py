"""Prometheus metrics: the series each process counts (``GET /metrics`` is :mod:`app.monitoring`).

Counters and histograms live in each process. Under several uvicorn workers, ``PROMETHEUS_MULTIPROC_DIR``
names a directory (``xinyi serve --workers N`` makes one, or empties the one given, before the workers
start): prometheus-client then keeps every process's values in files there and a scrape of any worker
sums them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
disable_created_metrics()  # no "_created" twin of every counter: Prometheus does not need them

HTTP_REQUESTS = Counter(
    "xinyi_http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "xinyi_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
VERIFICATIONS = Counter(
    "xinyi_verifications", "Pass verifications decided, by scenario and decision.", ["scenario", "decision"]
)
PASSES_ISSUED = Counter("xinyi_passes_issued", "Passes issued to residents, by kind.", ["kind"])
SMS_SENT = Counter("xinyi_sms_sent", "Sign-in SMS accepted by the provider.", ["provider"])
SMS_FAILURES = Counter(
    "xinyi_sms_failures", "Sign-in SMS refused or not sent, by provider and reason.", ["provider", "reason"]
)
DB_ERRORS = Counter("xinyi_db_errors", "Database errors that failed a request, by error class.", ["error"])
REDIS_ERRORS = Counter("xinyi_redis_errors", "Redis errors that failed a request, by error class.", ["error"])
DB_POOL_IN_USE = Gauge(
    "xinyi_db_pool_connections_in_use",
    "Database connections checked out of the API's pools.",
    multiprocess_mode="livesum",
)


_IN_USE = "xinyi_metrics_in_use"


def instrument_engine(engine: Engine) -> None:
    """Follow the engine's pool: a connection counts as in use from checkout to checkin. Each connection
    notes its own checkout, so a checkin the gauge never saw go out (a connection taken before these
    listeners, an invalidated one) cannot drive it below zero."""

    def checked_out(_dbapi: Any, record: Any, _proxy: Any) -> None:
        record.info[_IN_USE] = True
        DB_POOL_IN_USE.inc()

    def checked_in(_dbapi: Any, record: Any) -> None:
        if record is not None and record.info.pop(_IN_USE, False):
            DB_POOL_IN_USE.dec()

    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)


def render(*extra: Collector) -> tuple[bytes, str]:
    """The exposition of this process (or of all processes, in multiprocess mode), then ``extra``'s."""
    registry: Any
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if extra:
        more = CollectorRegistry()
        for collector in extra:
            more.register(collector)
        body += generate_latest(more)
    return body, CONTENT_TYPE_LATEST


def prepare_multiprocess_dir() -> str:
    """Before several server processes start: the shared directory, emptied of an earlier run's files
    (made in the temporary directory when ``PROMETHEUS_MULTIPROC_DIR`` is not set)."""
    path = os.environ.get(MULTIPROC_ENV) or tempfile.mkdtemp(prefix="xinyi-metrics-")
    Path(path).mkdir(parents=True, exist_ok=True)
    for stale in Path(path).glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = path  # inherited by the worker processes uvicorn spawns
    return path


def process_exited(pid: int) -> None:
    """In multiprocess mode, drop an exited worker's live gauges."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
