from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.core import metrics
from app.core.errors import NotFound, Unauthenticated
from app.core.idempotency import AppRoute
from app.core.security import constant_time_equal

router = APIRouter(route_class=AppRoute, tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(request: Request) -> JSONResponse:
    """The database and the key-value store both answer."""
    checks = {"database": "ok", "store": "ok"}
    try:
        # A raw pooled connection: no transaction, so it never queues behind SQLite's write lock.
        connection = request.app.state.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        finally:
            connection.close()
    except Exception:
        checks["database"] = "unavailable"
    if not request.app.state.store.ping():
        checks["store"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


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
    body, content_type = metrics.render(request.app.state.engine)
    return Response(body, media_type=content_type)
