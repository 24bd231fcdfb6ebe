"""Database engine, the request-owned session, and column types shared by every domain.

The request owns the transaction (STYLE.md): ``get_session`` commits after the handler returned and
before the response is sent, and rolls back on any error. Services only ``flush()``.

A statement that every verification or pass runs is built once, at import, with ``bindparam`` for what
changes, and executed with a dict of values (as ``accounts.service._SIGNED_IN_USER``): building a
statement and its cache key costs SQLAlchemy about as much CPU as executing it.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

# Constraint names are deterministic from the first migration on, so later migrations can drop them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite hands back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str, *, pooler: str | None = None, **kwargs: Any) -> Engine:
    """The process's engine. ``pooler``: ``"pgbouncer"`` when PostgreSQL is reached through PgBouncer
    in transaction mode (default: the ``XINYI_DATABASE_POOLER`` setting)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _use_real_sqlite_transactions(engine)
        return engine
    # Sync handlers and dependencies run on anyio's worker threads (40 by default), and a request can hold
    # a connection while it waits for a thread for its next dependency: with fewer connections than
    # threads a burst could deadlock, so the pool's steady part is larger than the thread limit.
    kwargs.setdefault("pool_size", 45)
    kwargs.setdefault("max_overflow", 5)
    engine = create_engine(url, **_postgres_options(pooler, kwargs))
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS, kwargs)
    return engine


def make_async_engine(url: str, *, pooler: str | None = None, **kwargs: Any) -> AsyncEngine:
    """The engine of the handlers that run on the event loop (verifying a pass, issuing one): the same
    database and settings as :func:`make_engine`, through the driver's asyncio side (psycopg's own;
    aiosqlite for SQLite). Their session is an ``AsyncSession`` and the domain code runs in it unchanged,
    through ``AsyncSession.run_sync``: no worker thread, so no thread hop and no GIL hand-off per step."""
    if url.startswith("sqlite"):
        sqlite_url = make_url(url).set(drivername="sqlite+aiosqlite")
        engine = create_async_engine(sqlite_url, connect_args={"timeout": 30}, **kwargs)
        _use_real_sqlite_transactions(engine.sync_engine)
        return engine
    # Requests wait on the loop, not on threads: a pool the size of the native reference's is enough.
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **_postgres_options(pooler, kwargs))
    _ping_when_idle(engine.sync_engine, PING_AFTER_IDLE_SECONDS, kwargs)
    return engine


def _postgres_options(pooler: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    if pooler is None:
        from app.core.config import get_settings

        pooler = get_settings().database_pooler
    options = dict(kwargs)
    if pooler == "pgbouncer":
        # Each transaction may run on another server connection there, so psycopg's automatic prepared
        # statements (made on a connection after a statement's fifth run) would be missing or already
        # exist; PgBouncer 1.18 does not carry them across in transaction mode.
        options["connect_args"] = {"prepare_threshold": None, **options.get("connect_args", {})}
    return options


# A connection handed back less than this long ago is handed out again without a ping.
PING_AFTER_IDLE_SECONDS = 2.0
_clock = time.monotonic  # tests move it


def _ping_when_idle(engine: Engine, idle_seconds: float, options: dict[str, Any]) -> None:
    """Unless ``pool_pre_ping`` was asked for (SQLAlchemy's own, a round trip on every checkout):
    pessimistic disconnect handling, the custom way SQLAlchemy documents: on checkout, ping a
    connection only when it has been idle in the pool for ``idle_seconds`` or more. A connection that
    was just used by the previous request is known good; one that sat idle may have been cut (database
    restart, firewall, server timeout) and is pinged, then replaced if the ping fails (the pool retries
    with a new connection). A connection that breaks within the idle window fails its request as it
    would mid-request; SQLAlchemy then invalidates the whole pool on that disconnect error."""
    if options.get("pool_pre_ping"):
        return

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = _clock()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = _clock()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if _clock() - record.info.get("returned_at", float("-inf")) < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its ping") from exc


def _use_real_sqlite_transactions(engine: Engine) -> None:
    """SQLAlchemy's documented recipe: let SQLAlchemy emit BEGIN so SAVEPOINT and DDL are transactional.

    ``BEGIN IMMEDIATE`` takes SQLite's single write lock when the transaction starts. With a plain
    ``BEGIN``, a transaction that reads and then writes (any request that appends to the audit log)
    fails at once with "database is locked" when another writer got there first, whatever the busy
    timeout. SQLite allows one writer anyway; this makes them queue instead of fail. PostgreSQL, the
    production database, has row locks and is unaffected.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# --- work done as the transaction commits ----------------------------------------------------------

_AT_COMMIT = "xinyi.at_commit"


def at_commit(session: Session, key: str, work: Callable[[Session, list[Any]], None]) -> list[Any]:
    """The list of things to write as this transaction commits under ``key``: the caller appends to it,
    and ``work(session, items)`` (registered by the first caller, once per key) writes them inside the
    transaction just before it commits, after the session's last flush, keys in registration order.
    Dropped if the transaction rolls back.

    For a write that takes a lock many requests share (an audit chain's head): taken at commit, the
    lock is held only for the commit's own round trips, never while the request waits for something
    else — a worker thread for response validation or for the commit itself, which, with every thread
    taken by requests queued on that lock, would hang the process."""
    if not session.in_transaction():  # so that its end, whichever, settles what is added here
        session.begin()
    pending: dict[str, tuple[Callable[[Session, list[Any]], None], list[Any]]]
    pending = session.info.setdefault(_AT_COMMIT, {})
    entry = pending.get(key)
    if entry is None:
        entry = pending[key] = (work, [])
    return entry[1]


def _run_at_commit(session: Session) -> None:
    pending = session.info.pop(_AT_COMMIT, None)
    if not pending:
        return
    session.flush()
    for work, items in pending.values():
        work(session, items)


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is not the commit
        _run_at_commit(session)


# A savepoint that rolls back takes back what was added for commit inside it: how long each list was
# when the savepoint began, per savepoint (gone with it).
_SAVEPOINT_MARKS = "xinyi.at_commit.savepoints"


@event.listens_for(OrmSession, "after_transaction_create")
def _transaction_begun(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_AT_COMMIT)
    if transaction.nested and pending:
        marks = session.info.setdefault(_SAVEPOINT_MARKS, weakref.WeakKeyDictionary())
        marks[transaction] = {key: len(items) for key, (_, items) in pending.items()}


@event.listens_for(OrmSession, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.nested:
        mark = session.info.get(_SAVEPOINT_MARKS, {}).get(previous_transaction, {})
        for key, (_, items) in session.info.get(_AT_COMMIT, {}).items():
            del items[mark.get(key, 0) :]


@event.listens_for(OrmSession, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's own transaction: committed, rolled back or closed
        session.info.pop(_AT_COMMIT, None)
        session.info.pop(_SAVEPOINT_MARKS, None)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A unit of work outside a request (CLI, workers, work after a response): a session on ``engine``
    that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """:func:`unit_of_work` on an engine of its own, for a command that runs once."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            yield session
    finally:
        engine.dispose()


def __getattr__(name: str) -> Any:
    """``get_session``, ``SessionDep`` and their async twins (:mod:`app.core.request_session`) need
    FastAPI: imported when first asked for, so that a command that only needs the engine (``xinyi scores
    rebuild``) starts without loading the web framework."""
    if name in {"get_session", "SessionDep", "get_async_session", "AsyncSessionDep"}:
        from app.core import request_session

        return getattr(request_session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
