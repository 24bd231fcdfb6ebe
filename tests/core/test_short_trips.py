"""Short trips (app.core.db.short_trips): BEGIN rides with a transaction's first statement and deferred
writes with its COMMIT, and nothing else about the transaction changes: all or nothing, and the pooled
connection goes back to its normal mode."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, Executable, text
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import (
    _SERVER_NAMES,
    _prepared,
    at_commit,
    commit,
    defer_write,
    execute_core,
    make_engine,
    read_alone,
    short_trips,
)
from tests.conftest import EXTERNAL

pytestmark = pytest.mark.skipif(not EXTERNAL, reason="short trips are for PostgreSQL")

_INSERT = text("INSERT INTO short_trips_probe (id) VALUES (:id)")
_COUNT = text("SELECT count(*) FROM short_trips_probe WHERE id = :id")


@pytest.fixture
def engine(settings: Settings, committed_engine: Engine) -> Iterator[Engine]:
    """One pooled connection only, so that the next checkout gets the connection the test used."""
    with committed_engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS short_trips_probe (id text PRIMARY KEY)"))
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()
    # Not part of the schema: gone again, so a schema comparison run after this test sees none.
    with committed_engine.begin() as connection:
        connection.execute(text("DROP TABLE short_trips_probe"))


def stored(settings: Settings, *ids: str) -> list[str]:
    """What another connection sees."""
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as observer:
        rows = observer.execute("SELECT id FROM short_trips_probe WHERE id = ANY(%s)", (list(ids),))
        return sorted(row[0] for row in rows)


def assert_back_to_normal(engine: Engine) -> None:
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver.autocommit is False  # type: ignore[union-attr]
        assert driver.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE  # type: ignore[union-attr]


def test_a_transaction_with_short_trips_commits_its_statements_and_deferred_writes_together(
    engine: Engine, settings: Settings
) -> None:
    first, deferred = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"
    with Session(engine) as session:
        assert short_trips(session)
        execute_core(session, _INSERT, {"id": first})  # BEGIN goes with it
        assert execute_core(session, _COUNT, {"id": first}).scalar_one() == 1
        defer_write(session, _INSERT, {"id": deferred})
        assert stored(settings, first, deferred) == []  # neither is visible before the commit
        commit(session)
    assert stored(settings, first, deferred) == sorted([first, deferred])
    assert_back_to_normal(engine)


def test_a_transaction_with_short_trips_that_fails_writes_nothing_and_leaves_the_connection_normal(
    engine: Engine, settings: Settings
) -> None:
    first, deferred = f"c-{uuid.uuid4().hex}", f"d-{uuid.uuid4().hex}"
    with pytest.raises(RuntimeError), Session(engine) as session:
        assert short_trips(session)
        execute_core(session, _INSERT, {"id": first})
        defer_write(session, _INSERT, {"id": deferred})
        raise RuntimeError("the request failed before its commit")
    assert stored(settings, first, deferred) == []
    assert_back_to_normal(engine)
    # and the next transaction on that connection is a transaction again, not autocommit
    again = f"e-{uuid.uuid4().hex}"
    with Session(engine) as session:
        execute_core(session, _INSERT, {"id": again})
        session.rollback()
    assert stored(settings, again) == []


def test_a_failing_deferred_write_fails_the_commit_and_writes_nothing(
    engine: Engine, settings: Settings
) -> None:
    first, taken = f"f-{uuid.uuid4().hex}", f"g-{uuid.uuid4().hex}"
    with Session(engine) as session:
        execute_core(session, _INSERT, {"id": taken})
        session.commit()
    with pytest.raises(Exception, match="duplicate key"), Session(engine) as session:
        assert short_trips(session)
        execute_core(session, _INSERT, {"id": first})
        defer_write(session, _INSERT, {"id": taken})
        commit(session)
    assert stored(settings, first, taken) == [taken]
    assert_back_to_normal(engine)


def test_short_trips_are_refused_to_a_session_joined_to_an_outer_transaction(db: Session) -> None:
    assert short_trips(db) is False


def test_work_added_for_the_commit_runs_before_a_short_trips_commit_and_its_deferred_writes_go_with_it(
    engine: Engine, settings: Settings
) -> None:
    first, at_the_commit = f"f-{uuid.uuid4().hex}", f"g-{uuid.uuid4().hex}"
    with Session(engine) as session:
        assert short_trips(session)
        execute_core(session, _INSERT, {"id": first})
        at_commit(session, "probe", lambda s, ids: [defer_write(s, _INSERT, {"id": i}) for i in ids]).append(
            at_the_commit
        )
        assert stored(settings, first, at_the_commit) == []
        commit(session)
    assert stored(settings, first, at_the_commit) == sorted([first, at_the_commit])
    assert_back_to_normal(engine)


def test_a_transaction_with_short_trips_that_ran_no_statement_commits_its_deferred_writes_or_nothing(
    engine: Engine, settings: Settings
) -> None:
    deferred = f"h-{uuid.uuid4().hex}"
    with Session(engine) as session:
        assert short_trips(session)
        defer_write(session, _INSERT, {"id": deferred})  # BEGIN, the write and COMMIT in one message
        commit(session)
    assert stored(settings, deferred) == [deferred]
    assert_back_to_normal(engine)
    with Session(engine) as session:
        assert short_trips(session)
        commit(session)  # nothing to send
        assert not session.in_transaction()
    assert_back_to_normal(engine)


def test_a_read_alone_runs_outside_the_session_and_leaves_it_unbegun(
    engine: Engine, settings: Settings
) -> None:
    present = f"i-{uuid.uuid4().hex}"
    with Session(engine) as session:
        execute_core(session, _INSERT, {"id": present})
        session.commit()
    with Session(engine) as session:
        assert read_alone(session, _COUNT, {"id": present}).scalar_one() == 1
        assert not session.in_transaction()  # no connection taken, nothing to commit or roll back
    assert_back_to_normal(engine)


def test_a_read_alone_that_fails_leaves_the_connection_normal(engine: Engine) -> None:
    with pytest.raises(Exception, match="short_trips_missing"), Session(engine) as session:
        read_alone(session, text("SELECT * FROM short_trips_missing"), {})
    assert_back_to_normal(engine)


def test_a_read_alone_in_a_session_joined_to_an_outer_transaction_reads_inside_it(db: Session) -> None:
    db.execute(text("CREATE TABLE IF NOT EXISTS short_trips_probe (id text PRIMARY KEY)"))
    uncommitted = f"j-{uuid.uuid4().hex}"
    execute_core(db, _INSERT, {"id": uncommitted})
    assert read_alone(db, _COUNT, {"id": uncommitted}).scalar_one() == 1


def prepared_on_server(engine: Engine) -> dict[str, int]:
    """Statements prepared on the pool's one connection: name -> times run (PostgreSQL's own count)."""
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        rows = driver.execute(  # type: ignore[union-attr]
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements WHERE name LIKE 'xinyi%'"
        ).fetchall()
        connection.rollback()
    return {name: runs for name, runs in rows}


def short_transaction(
    engine: Engine, read: str, write: str, statements: tuple[Executable, Executable] = (_COUNT, _INSERT)
) -> int:
    with Session(engine) as session:
        assert short_trips(session)
        count = execute_core(session, statements[0], {"id": read}).scalar_one()
        defer_write(session, statements[1], {"id": write})
        commit(session)
    return int(count)


def server_name(engine: Engine, statement: Executable) -> str:
    on_server = _prepared(statement, engine.dialect).on_server
    assert on_server is not None
    return on_server.name


def test_statements_short_trips_send_are_prepared_on_each_connection_and_run_from_there(
    engine: Engine, settings: Settings
) -> None:
    # Statements of this test's own, which no short trip has sent before.
    statements = (text(str(_COUNT) + " AND true"), text(str(_INSERT) + " ON CONFLICT DO NOTHING"))
    rows = [f"k-{uuid.uuid4().hex}" for _ in range(4)]
    assert short_transaction(engine, rows[0], rows[0], statements) == 0  # the read prepared, then run
    assert short_transaction(engine, rows[0], rows[1], statements) == 1  # the write prepared at BEGIN
    assert short_transaction(engine, rows[1], rows[2], statements) == 1
    assert short_transaction(engine, rows[3], rows[3], statements) == 0
    assert stored(settings, *rows) == sorted(rows)
    runs = prepared_on_server(engine)
    # the read ran prepared all four times; the write, sent as text the first time, three times
    assert (runs[server_name(engine, statements[0])], runs[server_name(engine, statements[1])]) == (4, 3)
    assert_back_to_normal(engine)


def test_a_statement_already_prepared_behind_the_pool_record_s_back_is_found_and_the_transaction_runs(
    engine: Engine, settings: Settings
) -> None:
    first, second = f"l-{uuid.uuid4().hex}", f"m-{uuid.uuid4().hex}"
    short_transaction(engine, first, first)
    short_transaction(engine, first, first + "x")
    with engine.connect() as connection:
        names = connection.connection.info[_SERVER_NAMES]
        assert names
        names.clear()  # as after a message whose PREPAREs ran but whose statement then failed
        connection.rollback()
    assert short_transaction(engine, first, second) == 1
    assert stored(settings, first, second) == sorted([first, second])
    on_server = set(prepared_on_server(engine))
    with engine.connect() as connection:
        assert on_server == connection.connection.info[_SERVER_NAMES]  # known again


def test_after_a_statement_fails_in_the_message_that_prepared_it_the_next_transaction_runs(
    engine: Engine,
) -> None:
    divide = text("SELECT 10 / CAST(:d AS integer) AS q")
    with pytest.raises(Exception, match="division by zero"), Session(engine) as session:
        assert short_trips(session)
        execute_core(session, divide, {"d": 0})  # its PREPARE ran, then the statement failed
    assert_back_to_normal(engine)
    with Session(engine) as session:
        assert short_trips(session)
        assert execute_core(session, divide, {"d": 5}).scalar_one() == 2
        commit(session)
    assert_back_to_normal(engine)


def test_the_statements_stay_prepared_across_ordinary_transactions_that_repeat_a_statement_and_roll_back(
    engine: Engine, settings: Settings
) -> None:
    # psycopg's automatic prepared statements (one after five runs of a statement on a connection)
    # would bring a DEALLOCATE ALL with the next rollback there, taking short trips' statements with it.
    row = f"n-{uuid.uuid4().hex}"
    short_transaction(engine, row, row)
    before = set(prepared_on_server(engine))
    assert before
    for _ in range(6):
        with engine.begin() as connection:  # committed: psycopg would have prepared it by now
            connection.execute(_COUNT, {"id": row})
    with engine.connect() as connection:
        connection.execute(_COUNT, {"id": row})
        connection.rollback()
    assert set(prepared_on_server(engine)) == before
    assert short_transaction(engine, row, row + "x") == 1
    assert stored(settings, row, row + "x") == sorted([row, row + "x"])


def deallocate_all(engine: Engine) -> None:
    """Drop every prepared statement of the pool's one connection behind the pool record's back."""
    with engine.connect() as connection:
        connection.connection.driver_connection.execute("DEALLOCATE ALL")  # type: ignore[union-attr]
        assert connection.connection.info[_SERVER_NAMES]  # the record still lists them
        connection.rollback()


def test_statements_gone_behind_the_pool_record_s_back_are_prepared_again_and_the_transaction_runs(
    engine: Engine, settings: Settings
) -> None:
    first, second = f"o-{uuid.uuid4().hex}", f"p-{uuid.uuid4().hex}"
    short_transaction(engine, first, first)
    deallocate_all(engine)
    assert short_transaction(engine, first, second) == 1  # its EXECUTE failed once, then ran
    assert stored(settings, first, second) == sorted([first, second])
    on_server = set(prepared_on_server(engine))
    with engine.connect() as connection:
        assert on_server == connection.connection.info[_SERVER_NAMES]  # known again
    assert_back_to_normal(engine)


def test_a_read_alone_runs_prepared_on_the_server_and_recovers_when_its_statement_is_gone(
    engine: Engine, settings: Settings
) -> None:
    read = text(str(_COUNT) + " AND 1 = 1")  # a statement of this test's own
    present = f"q-{uuid.uuid4().hex}"
    short_transaction(engine, present, present)
    with Session(engine) as session:
        assert read_alone(session, read, {"id": present}).scalar_one() == 1
        assert read_alone(session, read, {"id": present + "x"}).scalar_one() == 0
        assert not session.in_transaction()
    assert prepared_on_server(engine)[server_name(engine, read)] == 2
    deallocate_all(engine)
    with Session(engine) as session:
        assert read_alone(session, read, {"id": present}).scalar_one() == 1
    assert prepared_on_server(engine)[server_name(engine, read)] == 1
    assert_back_to_normal(engine)


def test_a_statement_the_server_cannot_prepare_runs_as_text_and_spoils_no_other_transaction(
    engine: Engine, settings: Settings
) -> None:
    ambiguous = text("SELECT :a + :b AS s")  # PREPARE: "operator is not unique: unknown + unknown"
    for a in (1, 2):
        with Session(engine) as session:
            assert short_trips(session)
            assert execute_core(session, ambiguous, {"a": a, "b": 2}).scalar_one() == a + 2
            commit(session)
    assert _prepared(ambiguous, engine.dialect).on_server is not None
    assert not prepared_on_server(engine).keys() & {server_name(engine, ambiguous)}
    with pytest.raises(Exception, match="short_trips_missing"), Session(engine) as session:
        read_alone(session, text("SELECT * FROM short_trips_missing WHERE id = :id"), {"id": "x"})
    row = f"r-{uuid.uuid4().hex}"
    assert short_transaction(engine, row, row) == 0  # neither is PREPAREd again on the connection
    assert stored(settings, row) == [row]
    assert_back_to_normal(engine)


def test_several_statements_the_server_can_no_longer_prepare_spoil_no_transaction(
    engine: Engine, settings: Settings, committed_engine: Engine
) -> None:
    # given two statements prepared and registered, whose table then goes away (or a database without it)
    table = f"short_trips_gone_{uuid.uuid4().hex[:8]}"
    with committed_engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {table} (id text PRIMARY KEY)"))
    gone = (
        text(f"SELECT count(*) FROM {table} WHERE id = :id"),  # noqa: S608 (our own name)
        text(f"INSERT INTO {table} (id) VALUES (:id)"),  # noqa: S608
    )
    assert short_transaction(engine, "g", "g", gone) == 0
    assert short_transaction(engine, "h", "h", gone) == 0  # both now registered
    with committed_engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))

    # when a new connection's first message PREPAREs every registered statement, both of those fail
    fresh = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        row = f"r-{uuid.uuid4().hex}"
        # then each is dropped in turn and the transaction runs
        assert short_transaction(fresh, row, row) == 0
        assert stored(settings, row) == [row]
        assert_back_to_normal(fresh)
    finally:
        fresh.dispose()
