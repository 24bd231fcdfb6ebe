"""The access log and the request metrics: one structured line per request (method, route template,
status, duration_ms; the request id comes from the context), and the same facts on ``/metrics``.

Uvicorn's own access log is off (``xinyi serve``): it has neither the route nor the request id. The route
is the template (``/v1/me/passes/{pass_id}``), never the raw path, so neither a label nor a log line
carries an identifier from a URL.
"""

from __future__ import annotations

import time

import redis
import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Message, Receive, Scope, Send

from app.core import metrics, outages
from app.core.asgi import HttpMiddleware

log = structlog.get_logger("app.access")
UNMATCHED = "<unmatched>"


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


def count_failure(exc: BaseException) -> None:
    """A request failed on the database or on Redis: count it by error class."""
    if isinstance(exc, SQLAlchemyError):
        metrics.DB_ERRORS.labels(type(exc).__name__).inc()
    elif isinstance(exc, redis.RedisError):
        metrics.REDIS_ERRORS.labels(type(exc).__name__).inc()


class AccessLogMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        except Exception as exc:
            # What the request-id middleware outside will answer: 503 for an outage, else 500.
            status = 503 if outages.unavailable_dependency(exc) else 500
            count_failure(exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            method, route = scope["method"], route_of(scope)
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_DURATION.labels(method, route).observe(elapsed)
            log.info(
                "request", method=method, route=route, status=status, duration_ms=round(elapsed * 1000, 1)
            )
