from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.core import outages
from app.core.idempotency import AppRoute

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
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ok", "checks": checks})
    # 503 naming what is down (``checks``), with the same Retry-After as every request's outage answer.
    return JSONResponse(
        {"status": "unavailable", "checks": checks},
        status_code=503,
        headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)},
    )
