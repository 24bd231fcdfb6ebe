"""Database engine, the request-owned session, and column types shared by every domain.

The request owns the transaction (STYLE.md): ``get_session`` commits after the handler returned and
before the response is sent, and rolls back on any error. Services only ``flush()``.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, DateTime, Engine, Executable, event
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.exc import DisconnectionError
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


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _use_real_sqlite_transactions(engine)
        return engine
    # Unless asked for, not SQLAlchemy's pre-ping, which costs a round trip on every checkout, but a
    # ping only of a connection that sat idle in the pool (see _ping_when_idle).
    ping_every_checkout = kwargs.pop("pool_pre_ping", False)
    # Sync handlers and dependencies run on anyio's worker threads (40 by default), and a request can hold
    # a connection while it waits for a thread for its next dependency. With fewer connections than
    # threads, a burst can deadlock: every thread waits for a connection held by a request that waits
    # for a thread. So the pool is larger than the thread limit — and its steady part too: a connection
    # beyond pool_size is closed when handed back, so with 40 busy threads and a pool of 20, a loaded
    # server opened and closed a PostgreSQL connection (a backend process) every few requests.
    kwargs.setdefault("pool_size", 45)
    kwargs.setdefault("max_overflow", 5)
    # No automatic prepared statements of psycopg's own (it prepares a statement after its fifth run on
    # a connection): psycopg follows every rollback on a connection where it prepared one with DEALLOCATE
    # ALL, which would also drop the statements short trips prepare (see _OnServer) behind the pool
    # record's back; and PostgreSQL may keep a generic plan made while a table was still nearly empty (a
    # sequential scan) for the rest of a long import, whose look-ups would then turn quadratic. The hot
    # paths' statements are prepared by us.
    kwargs["connect_args"] = {"prepare_threshold": None, **kwargs.get("connect_args", {})}
    engine = create_engine(url, pool_pre_ping=ping_every_checkout, **kwargs)
    _no_autocommit_left_behind(engine)
    if not ping_every_checkout:
        _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _no_autocommit_left_behind(engine: Engine) -> None:
    """A transaction with short trips (see :func:`short_trips`) runs its connection in psycopg's
    autocommit mode, with its own BEGIN and COMMIT, and puts it back when it commits. Whatever happened
    (an error between the two), a connection goes back to the pool in the normal mode."""

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is None or not getattr(dbapi_connection, "autocommit", False):
            return
        if dbapi_connection.pgconn.transaction_status != _IDLE:
            dbapi_connection.rollback()
        dbapi_connection.autocommit = False


# A connection handed back less than this long ago is handed out again without a ping.
PING_AFTER_IDLE_SECONDS = 2.0
_clock = time.monotonic  # tests move it


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling, the custom way SQLAlchemy documents: on checkout, ping a
    connection only when it has been idle in the pool for ``idle_seconds`` or more. A connection that
    was just used by the previous request is known good; one that sat idle may have been cut (database
    restart, firewall, server timeout) and is pinged, then replaced if the ping fails (the pool retries
    with a new connection). A connection that breaks within the idle window fails its request as it
    would mid-request; SQLAlchemy then invalidates the whole pool on that disconnect error."""

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


def execute_core(session: Session, statement: Executable, params: Mapping[str, Any]) -> Result[Any]:
    """Run a Core statement (no ORM entities in or out) on the session's connection, in its transaction,
    past the ORM's per-statement machinery, which only ORM statements need: on a hot path that is a
    good part of a statement's cost. Pending changes are flushed first, as ``Session.execute`` does.

    The statement must be built once (module level): on PostgreSQL it is compiled once and then run on
    the DBAPI cursor directly, with the same bind and result processing SQLAlchemy applies (see
    :class:`_Prepared`); SQLAlchemy's per-execution work (execution context, cache lookup, result
    metadata) was more than half of a hot statement's CPU. Other databases take the normal path."""
    session.flush()
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        return connection.execute(statement, params)
    prepared = _prepared(statement, dialect)
    if prepared.fallback:
        return connection.execute(statement, params)
    trips = session.info.get(_SHORT_TRIPS)
    if trips is not None and not trips.begun:
        trips.begun = True
        driver: Any = connection.connection.driver_connection
        if driver.pgconn.transaction_status == _IDLE:
            return prepared.run(connection, params, begin=True)
    return prepared.run(connection, params)


def _prepared(statement: Executable, dialect: Dialect) -> _Prepared:
    prepared = _PREPARED.get(id(statement))
    if prepared is None or prepared.statement is not statement or prepared.dialect is not dialect:
        prepared = _Prepared.build(statement, dialect)
        if len(_PREPARED) >= _PREPARED_MAX:  # a caller building statements per call: bound, not leaked
            _PREPARED.clear()
        _PREPARED[id(statement)] = prepared
    return prepared


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


# --- short trips: one round trip fewer at each end of a hot transaction (PostgreSQL) ------------------

_SHORT_TRIPS = "xinyi.short_trips"
_IDLE = psycopg.pq.TransactionStatus.IDLE


class _ShortTrips:
    __slots__ = ("begun", "deferred")

    def __init__(self) -> None:
        self.begun = False
        self.deferred: list[bytes] = []


def short_trips(session: Session) -> bool:
    """Let this session's transaction save a round trip at each end: its BEGIN travels with its first
    statement run by :func:`execute_core`, and the writes given to :func:`defer_write` travel with its
    COMMIT, sent by :func:`commit` — each as one simple-protocol message with client-side binding
    (psycopg's ``ClientCursor``; psycopg is in autocommit mode meanwhile so that it sends no BEGIN of its
    own, and is put back by :func:`commit`, or on the way back to the pool). On a loaded server a round
    trip costs more than the statement (thread switches around the GIL on the way out and back): on
    ``make bench-verify`` the server's CPU per verification went from 2.2-2.5 to 2.0 ms. Only for a
    session of its own on PostgreSQL that has not begun (not a session joined to an outer transaction,
    as in most tests); returns whether it applies. The caller ends with :func:`commit`, or an error rolls
    back as usual."""
    if not _own_postgresql_session(session):
        return False
    session.info[_SHORT_TRIPS] = _ShortTrips()
    return True


def _own_postgresql_session(session: Session) -> bool:
    bind = session.get_bind()
    return isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not session.in_transaction()


def read_alone(session: Session, statement: Executable, params: Mapping[str, Any]) -> Result[Any]:
    """A read that needs no transaction around it (the signed-in account's row, read by a request that
    reads nothing else: a pass's issuance). For a session of its own on PostgreSQL that has not begun,
    it runs by itself on a pooled connection in autocommit mode: no BEGIN, no COMMIT, none of the
    session's transaction machinery (0.42-0.50 -> 0.31-0.33 ms a read, here), prepared on the server as
    short trips' statements are; the session stays unbegun. Otherwise (SQLite, a session joined to an
    outer transaction as in tests, one that has begun) it runs in the session's transaction, as
    :func:`execute_core` runs it. Built once, as for :func:`execute_core`."""
    if not _own_postgresql_session(session):
        return execute_core(session, statement, params)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    prepared = _prepared(statement, engine.dialect)
    if prepared.fallback:
        return execute_core(session, statement, params)
    with engine.connect() as connection:
        return prepared.run(connection, params, alone=True)


def defer_write(session: Session, statement: Executable, params: Mapping[str, Any]) -> None:
    """A write whose result nobody reads (no RETURNING): run now — or, in a transaction with short
    trips, sent with its COMMIT (so nothing later in that transaction may read what it writes)."""
    trips = session.info.get(_SHORT_TRIPS)
    if trips is None:
        execute_core(session, statement, params)
        return
    session.flush()
    connection = session.connection()
    prepared = _prepared(statement, connection.dialect)
    if prepared.fallback:
        execute_core(session, statement, params)
        return
    driver: Any = connection.connection.driver_connection
    named = _on_server(prepared)
    sql = named.execute_sql if named is not None and named.name in _server_names(connection) else prepared.sql
    trips.deferred.append(psycopg.ClientCursor(driver).mogrify(sql, prepared.bind(params)).encode())


def commit(session: Session) -> None:
    """``session.commit()``; in a transaction with short trips, the deferred writes and the COMMIT in
    one round trip first (the ORM's commit then has nothing left to send). A session that has not begun
    (nothing read or added in it, as a pass's issuance after ``read_alone``) has nothing to commit:
    ``session.commit()`` would begin a transaction only to commit it."""
    trips = session.info.get(_SHORT_TRIPS)
    if trips is None:
        if session.in_transaction():  # (adding an object begins one)
            session.commit()
        return
    _run_at_commit(session)  # its writes may be deferred too, to travel with the COMMIT
    session.info.pop(_SHORT_TRIPS, None)
    session.flush()
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    if driver.pgconn.transaction_status == _IDLE:  # nothing ran in a transaction
        if trips.deferred:
            driver.autocommit = True  # psycopg sends no BEGIN of its own: it travels with the writes
            _send(connection, driver, b"; ".join([b"BEGIN", *trips.deferred, b"COMMIT"]))
    else:
        _send(connection, driver, b"; ".join([*trips.deferred, b"COMMIT"]))
    # Back to normal before the connection goes back to the pool (session.commit() hands it back, and
    # another thread may take it at once); psycopg's own commit then sends nothing, the server is idle.
    driver.autocommit = False
    session.commit()


def _send(connection: Connection, driver: Any, sql: bytes) -> None:
    cursor: Any = psycopg.ClientCursor(driver)
    try:
        cursor.execute(sql)
    except Exception as exc:
        connection._handle_dbapi_exception(exc, sql.decode(), None, cursor, None)
    finally:
        cursor.close()


# --- statements prepared on the server, for short trips -----------------------------------------------
#
# Short trips send their statements as text (the simple protocol: several statements in one message),
# so PostgreSQL would parse and plan each of them every time: for the verification's standing read that
# was more of PostgreSQL's CPU than running it (0.39-0.47 -> 0.24 ms with the plan kept), on a machine
# where PostgreSQL shares the cores with the server. So every statement short trips send is PREPAREd on
# each pooled connection (at the start of the next short-trips transaction there: a PREPARE inside an
# open transaction that failed would abort it) and then sent as ``EXECUTE name(literals)``; so is a
# read alone (:func:`read_alone`). Prepared statements last as long as the connection (a rollback keeps
# them; psycopg's own automatic ones, which would bring a DEALLOCATE ALL with every rollback, are off:
# see make_engine), which the pool's record of the connection (its ``info``, cleared when it
# reconnects) tracks; should the two still disagree (a PREPARE finds its name taken, an EXECUTE its
# statement gone), the first message asks the server and is sent again. A restart after a migration
# that changes their tables is assumed, as for any prepared statement.

_SERVER_NAMES = "xinyi.server_prepared"  # in a pooled connection's info: the names PREPAREd on it
_SERVER_MAX = 64  # statements, per process (module-level statements: a handful)
_server_statements: dict[str, _OnServer] = {}  # registered: PREPAREd on each connection as it lacks them
_server_made = itertools.count(1)  # names are never reused (a statement found unpreparable is dropped)
_server_lock = threading.Lock()
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class _OnServer:
    """One statement's server-side form: ``PREPARE name AS …$1…`` and ``EXECUTE name(%(a)s, …)``."""

    __slots__ = ("execute_sql", "name", "prepare_sql", "usable")

    def __init__(self, name: str, sql: str) -> None:
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        # Sent without parameters (no % processing): psycopg's escaped %% is a plain % here.
        self.prepare_sql = f"PREPARE {name} AS {_PLACEHOLDER.sub(number, sql).replace('%%', '%')}".encode()
        self.execute_sql = (
            f"EXECUTE {name}({', '.join(f'%({key})s' for key in order)})" if order else f"EXECUTE {name}"
        )
        self.name = name
        self.usable = True  # False once its PREPARE has failed: the statement is sent as text


def _on_server(prepared: _Prepared) -> _OnServer | None:
    """The statement's server-side form, made the first time short trips send it (None past the
    bound)."""
    # (A literal % in the statement would make its placeholders ambiguous here: left as it is.)
    if prepared.on_server is None and not prepared.fallback and "%%" not in prepared.sql:
        with _server_lock:
            if prepared.on_server is None and len(_server_statements) < _SERVER_MAX:
                name = f"xinyi_{next(_server_made)}"
                prepared.on_server = _server_statements[name] = _OnServer(name, prepared.sql)
    named = prepared.on_server
    return named if named is not None and named.usable else None


def _unpreparable(name: str) -> None:
    """A registered statement whose PREPARE failed (one the server cannot plan without its parameters'
    values, say, or a broken one): no connection PREPAREs it again, it runs as text."""
    with _server_lock:
        statement = _server_statements.pop(name, None)
        if statement is not None:
            statement.usable = False


def _server_names(connection: Connection) -> set[str]:
    names: set[str] = connection.connection.info.setdefault(_SERVER_NAMES, set())
    return names


def _first_message(
    prepared: _Prepared, bound: Mapping[str, Any], driver: Any, names: set[str], *, begin: bool
) -> tuple[bytes, list[str]]:
    """PREPAREs of every short-trips statement this connection lacks, BEGIN (``begin``), and this
    statement (as EXECUTE); and the names the message prepares. The PREPAREs come first: one that fails
    stops the message before anything else runs, outside any transaction."""
    named = _on_server(prepared)
    missing: list[_OnServer] = []
    if len(names) < len(_server_statements):  # (names only ever holds registered ones)
        with _server_lock:
            missing = [statement for name, statement in _server_statements.items() if name not in names]
    sql = prepared.sql if named is None else named.execute_sql
    body = psycopg.ClientCursor(driver).mogrify(sql, bound).encode()
    return b"; ".join([*(s.prepare_sql for s in missing), *((b"BEGIN",) if begin else ()), body]), [
        s.name for s in missing
    ]


def _prepared_on(driver: Any) -> set[str]:
    """What the server says this connection has prepared (after the first message failed)."""
    rows = driver.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'xinyi\\_%'").fetchall()
    with _server_lock:  # only this process's names (``_first_message`` counts them)
        return {row[0] for row in rows if row[0] in _server_statements}


_PREPARED: dict[int, _Prepared] = {}
_PREPARED_MAX = 256


class _Prepared:
    """A prebuilt Core statement compiled once for one dialect, with its bind processors (the same ones
    SQLAlchemy applies: type decorators such as :class:`UTCDateTime`, JSON serialisation) and, after the
    first run, its result keys and result processors. Statements that need SQLAlchemy's per-execution
    rendering (expanding ``IN``, literal-execute parameters) or multi-row results with ORM entities are
    marked ``fallback`` and take the normal path."""

    __slots__ = (
        "bind_processors",
        "compiled",
        "dialect",
        "fallback",
        "on_server",
        "result",
        "sql",
        "statement",
    )

    def __init__(self, statement: Executable, dialect: Dialect, compiled: Any, fallback: bool) -> None:
        self.on_server: _OnServer | None = None
        self.statement = statement
        self.dialect = dialect
        self.compiled = compiled
        self.fallback = fallback
        self.sql: str = compiled.string if compiled is not None else ""
        self.bind_processors: list[tuple[str, Any]] = []
        self.result: tuple[SimpleResultMetaData, list[Any | None]] | None = None

    @classmethod
    def build(cls, statement: Executable, dialect: Dialect) -> _Prepared:
        compiled: Any = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        fallback = bool(
            compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.positional
            or compiled.escaped_bind_names
            or not isinstance(compiled.string, str)
        )
        prepared = cls(statement, dialect, compiled, fallback)
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                prepared.bind_processors.append((name, processor))
        return prepared

    def _result_of(self, cursor: Any) -> tuple[SimpleResultMetaData, list[Any | None]]:
        if self.result is None:
            description = cursor.description
            typed = {entry.keyname: entry.type for entry in self.compiled._result_columns or ()}
            keys = [column[0] for column in description]
            processors = [
                typed[key].dialect_impl(self.dialect).result_processor(self.dialect, column[1])
                if key in typed
                else None
                for key, column in zip(keys, description, strict=True)
            ]
            self.result = (SimpleResultMetaData(keys), processors)
        return self.result

    def bind(self, params: Mapping[str, Any]) -> dict[str, Any]:
        bound: dict[str, Any] = self.compiled.construct_params(params)
        for name, processor in self.bind_processors:
            if name in bound:
                bound[name] = processor(bound[name])
        return bound

    @staticmethod
    def _first_failed(exc: psycopg.Error, driver: Any, names: set[str], preparing: list[str]) -> None:
        """After a first message failed (nothing ran but its PREPAREs, one by one, up to the failure):
        when the pool record's names were not what the server has on this connection (prepared behind
        its back by a message that failed after its PREPAREs ran, or gone in a DEALLOCATE ALL), or a
        PREPARE failed, put that right so that the message can be sent again; otherwise re-raise (the
        statement's own error, or a broken connection's)."""
        if exc.sqlstate is None:
            raise exc
        if driver.pgconn.transaction_status != _IDLE:
            driver.rollback()  # the BEGIN's aborted block
        on_server = _prepared_on(driver)
        names.clear()
        names.update(on_server)
        stale = isinstance(
            exc, psycopg.errors.DuplicatePreparedStatement | psycopg.errors.InvalidSqlStatementName
        )
        if not stale:
            failed = next((name for name in preparing if name not in on_server), None)
            if failed is None:  # every PREPARE ran: the statement's own error
                raise exc
            _unpreparable(failed)

    def run(
        self, connection: Connection, params: Mapping[str, Any], *, begin: bool = False, alone: bool = False
    ) -> Result[Any]:
        """Run on the DBAPI cursor. ``begin``: the transaction's BEGIN in the same message (see
        :func:`short_trips`); ``alone``: outside any transaction (see :func:`read_alone`)."""
        bound = self.bind(params)
        driver: Any = connection.connection.driver_connection
        sql: str | bytes = self.sql
        cursor: Any
        names: set[str] = set()
        preparing: list[str] = []
        first = begin or alone  # the first message: PREPAREs the connection lacks, EXECUTE
        if first:
            driver.autocommit = True
            cursor = psycopg.ClientCursor(driver)
            names = _server_names(connection)
            sql, preparing = _first_message(self, bound, driver, names, begin=begin)
        else:
            cursor = driver.cursor()
        try:
            try:
                cursor.execute(sql, None if first else bound)
            except psycopg.Error as exc:
                if not first:
                    raise
                # Put right and send again, as often as PREPAREs fail (several may, on a database whose
                # tables differ): each failure drops the statement that failed; one more for stale names.
                for _ in range(len(preparing) + 1):
                    self._first_failed(exc, driver, names, preparing)
                    sql, preparing = _first_message(self, bound, driver, names, begin=begin)
                    try:
                        cursor.execute(sql)
                        break
                    except psycopg.Error as again:
                        exc = again
                else:
                    raise exc
            names.update(preparing)
            for _ in range(len(preparing) + begin):  # the results of the message's PREPAREs and BEGIN
                cursor.nextset()
            if cursor.description is None:
                rows: list[Any] = []
                metadata = _NO_COLUMNS
            else:
                metadata, processors = self._result_of(cursor)
                rows = cursor.fetchall()
                if any(processors):
                    rows = [
                        tuple(
                            value if p is None else p(value) for p, value in zip(processors, row, strict=True)
                        )
                        for row in rows
                    ]
        except Exception as exc:
            # Wrapped as SQLAlchemy wraps it (IntegrityError, OperationalError, …), and a disconnect
            # invalidates the connection as on the normal path.
            connection._handle_dbapi_exception(exc, self.sql, bound, cursor, None)
        finally:
            cursor.close()
        if alone:  # back to normal (after an error, the pool's check-in puts it back)
            driver.autocommit = False
        return IteratorResult(metadata, iter(rows))


_NO_COLUMNS = SimpleResultMetaData([])


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work outside a request (CLI, workers): commits on success, rolls back on error."""
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        engine.dispose()


def __getattr__(name: str) -> Any:
    """``get_session`` and ``SessionDep`` (:mod:`app.core.request_session`) need FastAPI: imported when
    first asked for, so that a command that only needs the engine (``xinyi scores rebuild``) starts
    without loading the web framework."""
    if name in {"get_session", "SessionDep"}:
        from app.core import request_session

        return getattr(request_session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
