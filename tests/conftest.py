"""Test harness (Polar's ``tests/fixtures/database.py`` shape).

Two legs, chosen by ``XINYI_TEST_LEG``:
- ``embedded`` (default): a SQLite file + the in-process store;
- ``external``: ``XINYI_TEST_DATABASE_URL`` (PostgreSQL) + ``XINYI_TEST_REDIS_URL`` (Redis).

The schema is built once per run by the Alembic migrations. Each test runs inside a transaction that is
rolled back at the end; the app's session is bound to it with savepoints, so handler commits stay inside.
Tests that need real commits (concurrency) use ``committed_engine`` and their own unique data.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import Session

from app.audit import service as audit_service
from app.core import clock
from app.core.config import Settings
from app.core.db import get_async_session, get_session, make_engine
from app.core.migrate import upgrade
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore, MemoryStore, RedisStore
from app.main import create_app
from app.signing import service as signing_service
from tests.clock import PINNED

LEG = os.environ.get("XINYI_TEST_LEG", "embedded")
if LEG not in {"embedded", "external"}:
    raise RuntimeError(f"XINYI_TEST_LEG must be embedded or external, not {LEG!r}")
EXTERNAL = LEG == "external"
SAME_CLOCK_PRELOAD = "XINYI_TEST_SAME_CLOCK_PRELOAD"


def pytest_report_header() -> str:
    return f"xinyi test leg: {LEG}"


@pytest.fixture(autouse=True)
def pinned_clock(time_machine: time_machine.TimeMachineFixture) -> Iterator[time_machine.TimeMachineFixture]:
    """Every test starts at :data:`tests.clock.PINNED` (the clock then ticks on); a test that needs time to
    pass moves it on purpose (``pinned_clock.shift(timedelta(days=8))``). No test sees the machine's date."""
    clock.configure("test")
    time_machine.move_to(PINNED, tick=True)
    yield time_machine
    clock.configure("test")


@pytest.fixture(scope="session", autouse=True)
def _started_processes_on_the_real_clock() -> None:
    """Under libfaketime (``faketime '2031-11-30 10:00:00' make test``: the suite means the same on any
    date) the servers and workers the tests start would inherit it, and its faked timed waits stall them
    (a restarted redis-server, a worker's lease). They run on the machine's clock instead; the xinyi
    processes among them are given the suite's instant (``XINYI_CLOCK_AT``). Session fixtures run in
    each pytest-xdist worker, never in the process that starts the workers, so those stay faked.

    Only ``LD_PRELOAD`` is changed: libfaketime in this process re-reads ``FAKETIME`` every few seconds,
    and without it would fall back to the real date in the middle of a test (the pinned clock then jumped
    back by the distance between the two dates)."""
    preload = os.environ.get("LD_PRELOAD", "").split()
    if "LD_PRELOAD" in os.environ:
        os.environ["LD_PRELOAD"] = " ".join(p for p in preload if "faketime" not in p)
    # For a process that must share this one's clock (partners/tests: a console script checking a code
    # this process signed).
    faked = " ".join(p for p in preload if "faketime" in p)
    if faked:
        os.environ[SAME_CLOCK_PRELOAD] = faked


def _xdist_worker(request: pytest.FixtureRequest) -> int | None:
    """The number of this pytest-xdist worker (``gw3`` -> 3), None when the suite runs in one process."""
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    return None if worker is None else int(worker.removeprefix("gw"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    if not EXTERNAL:
        path: Path = tmp_path_factory.mktemp("db") / "test.db"
        return f"sqlite:///{path}"
    url = make_url(os.environ.get("XINYI_TEST_DATABASE_URL", ""))
    if not url.drivername.startswith("postgresql"):
        raise RuntimeError("the external leg needs XINYI_TEST_DATABASE_URL=postgresql+psycopg://…")
    worker = _xdist_worker(request)
    if worker is None:
        return url.render_as_string(hide_password=False)
    # Each xdist worker gets a database of its own beside the one named (test -> test_gw0, test_gw1, …).
    own = url.set(database=f"{url.database}_gw{worker}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own.database})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    admin.dispose()
    return own.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    if not EXTERNAL:
        return ""
    url = os.environ.get("XINYI_TEST_REDIS_URL", "")
    if not url.startswith("redis"):
        raise RuntimeError("the external leg needs XINYI_TEST_REDIS_URL=redis://…")
    worker = _xdist_worker(request)
    if worker is None:
        return url
    # Each xdist worker its own Redis database, counted from the one named (/0 -> /1, /2, … for gw0, gw1).
    base, _, number = url.rpartition("/")
    return f"{base}/{(int(number or 0) + worker + 1) % 16}"


@pytest.fixture(scope="session")
def evidence_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("evidence")


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, evidence_dir: Path) -> Settings:
    test_settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        id_encryption_keys={"t1": base64.urlsafe_b64encode(b"t" * 32).decode()},
        id_encryption_active_kid="t1",
        id_hash_key="test-id-hash-key-0123456789",
        audit_hmac_keys={"ta1": "test-audit-hmac-key-0123456789-abcdef"},
        audit_hmac_active_kid="ta1",
        log_json=True,
        evidence_dir=str(evidence_dir),
    )
    # Services called without an app (CLI helpers, the tests' own sessions) key the audit chain as the
    # apps and the processes the tests start do.
    audit_service.configure(test_settings)
    return test_settings


@pytest.fixture(scope="session")
def committed_engine(settings: Settings) -> Iterator[Engine]:
    """The test database, migrated from empty. Data committed through it stays until the next run."""
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    with engine.connect() as conn:
        upgrade(connection=conn)
        conn.commit()
    # The platform's first signing key, in use since before the pinned instant: every test starts at that
    # instant again, so a key first made by one test would not yet sign in the next.
    with Session(engine) as session:
        signing_service.ensure_key(session, Crypto(settings).cipher, now=PINNED - timedelta(days=30))
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def db(committed_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = committed_engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def store(redis_url: str) -> Iterator[KeyValueStore]:
    if not EXTERNAL:
        yield MemoryStore()
        return
    prefix = f"xinyi-test:{uuid.uuid4().hex}:"
    redis_store = RedisStore.from_url(redis_url, prefix=prefix)
    yield redis_store
    client = redis_store._client
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    redis_store.close()


@pytest.fixture
def sms() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def app(settings: Settings, store: KeyValueStore, sms: RecordingSender, db: Session):  # type: ignore[no-untyped-def]
    return in_the_test_session(create_app(settings, store=store, sms_sender=sms), db)


def in_the_test_session(application: FastAPI, db: Session) -> FastAPI:
    """Every request of ``application`` works in the test's session ``db``, rolled back after the test."""

    def test_session() -> Iterator[Session]:
        # Settle what the test itself wrote first, so that a refused request, which rolls back its own
        # work, cannot roll back the test's setup with it.
        db.commit()
        try:
            yield db
            db.commit()  # releases the savepoint; the outer transaction is rolled back after the test
        except BaseException:
            db.rollback()
            raise

    async def test_async_session() -> AsyncIterator[OnTheTestSession]:
        # The hot path's async handlers work in the same session, so that they see the test's setup and
        # their writes are rolled back with it.
        db.commit()
        try:
            yield OnTheTestSession(db)
            db.commit()
        except BaseException:
            db.rollback()
            raise

    application.dependency_overrides[get_session] = test_session
    application.dependency_overrides[get_async_session] = test_async_session
    return application


class OnTheTestSession:
    """Stands in for the request's ``AsyncSession`` in ``client`` tests: ``run_sync`` runs the domain
    code in the test's own session (``live`` tests use the real async engine)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(self.session, *args, **kwargs)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def live(
    committed_engine: Engine, settings: Settings, store: KeyValueStore, sms: RecordingSender
) -> Iterator[TestClient]:
    """The whole HTTP stack with its own engine on the committed database: every request commits for
    real (no per-test rollback), for tests of concurrent requests and of what other processes see."""
    with TestClient(
        create_app(settings, store=store, sms_sender=sms), raise_server_exceptions=False
    ) as client:
        yield client
