"""A dependency that does not answer (PostgreSQL, Redis) is ``503`` with ``Retry-After``, never a 500.

Fail closed, say so: a request that needed the database or the store and could not reach it did nothing
(its transaction rolled back), so the client may retry it after ``Retry-After`` seconds. The stable codes
are ``database_unavailable`` and ``store_unavailable``. Nothing here decides anything: a verification
that cannot reach its dependencies is never "eligible", it is a 503.
"""

from __future__ import annotations

import sqlite3

import psycopg
import redis
import structlog
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from app.core.errors import problem_response

RETRY_AFTER_SECONDS = 5

log = structlog.get_logger("app.outages")

_STORE_DOWN = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError)
_DATABASE_DOWN = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
)


def unavailable_dependency(exc: BaseException) -> str | None:
    """``"database"`` or ``"store"`` when ``exc`` says that dependency is out of reach, else None (a bug:
    a 500). An SQLite error counts only when the file is locked or cannot be opened."""
    if isinstance(exc, _STORE_DOWN):
        return "store"
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return "database"
        exc = exc.orig if exc.orig is not None else exc
    if isinstance(exc, _DATABASE_DOWN):
        return "database"
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc)
        return "database" if "locked" in message or "unable to open" in message else None
    return None


def unavailable_response(dependency: str, exc: BaseException) -> JSONResponse:
    # A warning without a traceback: an outage is an operations event, not a bug in this code.
    log.warning("dependency_unavailable", dependency=dependency, error_type=type(exc).__name__)
    name = {"database": "The database", "store": "The key-value store"}[dependency]
    return problem_response(
        503,
        f"{dependency}_unavailable",
        "Service unavailable",
        f"{name} is not answering; nothing was done. Retry after a few seconds.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
