"""PostgreSQL connections are pinged on checkout only after sitting idle in the pool
(``app.core.db._ping_when_idle``): a busy pool pays no round trip, and a connection cut while idle
(database restart, firewall) is replaced instead of failing the request that gets it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from app.core import db as core_db
from tests.conftest import EXTERNAL

pytestmark = pytest.mark.skipif(not EXTERNAL, reason="the idle ping is for PostgreSQL's pool")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(core_db, "_clock", fake)
    return fake


@pytest.fixture
def engine(database_url: str, clock: Clock) -> Iterator[Engine]:
    made = core_db.make_engine(database_url, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return seen


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_just_handed_back_is_reused_without_a_ping(
    engine: Engine, clock: Clock, pings: list[object]
) -> None:
    first = _backend_pid(engine)
    clock.now += core_db.PING_AFTER_IDLE_SECONDS / 2
    assert _backend_pid(engine) == first
    assert pings == []


def test_an_idle_connection_is_pinged_before_reuse(engine: Engine, clock: Clock, pings: list[object]) -> None:
    first = _backend_pid(engine)
    clock.now += core_db.PING_AFTER_IDLE_SECONDS + 1
    assert _backend_pid(engine) == first
    assert len(pings) == 1


def test_an_idle_connection_cut_meanwhile_is_replaced_and_the_caller_never_sees_it(
    engine: Engine, clock: Clock, committed_engine: Engine
) -> None:
    # given a pooled connection whose server process is terminated while it sits idle
    first = _backend_pid(engine)
    with committed_engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    clock.now += core_db.PING_AFTER_IDLE_SECONDS + 1
    # when it is next checked out, then the ping fails and a new connection serves the caller
    second = _backend_pid(engine)
    assert second != first
