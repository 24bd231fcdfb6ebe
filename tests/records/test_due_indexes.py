"""The scheduled jobs find what is due through their partial indexes (app.records.models): a query whose
condition stops matching its index's silently reads every record instead (16 s a day at 10M records).
The plan is asked of the database for the very statements the job ran, with sequential scans made
unattractive so that an empty test table does not hide which index the query can use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from app.records import deletion, service


def _selects_run_by(session: Session, job: Callable[[], Any]) -> list[tuple[str, Any]]:
    connection = session.connection()
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", keep)
    try:
        job()
    finally:
        event.remove(connection, "before_cursor_execute", keep)
    return seen


def _plan(session: Session, statement: str, parameters: Any) -> str:
    driver = session.connection()
    if driver.dialect.name == "postgresql":
        driver.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = driver.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        driver.exec_driver_sql("SET LOCAL enable_seqscan = on")
    else:
        rows = driver.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


# A day long past: nothing the suite committed elsewhere can be due then, so each job runs only its
# look-ups (the plan does not depend on the day: the index's condition does not mention it).
LONG_AGO = date(2000, 1, 1)


@pytest.mark.parametrize(
    ("job", "indexes"),
    [
        (
            lambda db: service.expire_due(db, LONG_AGO, 100),
            ["ix_credit_records_due", "ix_credit_list_entries_due"],
        ),
        (
            lambda db: deletion.due_for_deletion(db, LONG_AGO, limit=100),
            ["ix_credit_records_retained"],
        ),
    ],
    ids=["expiry", "retention"],
)
def test_a_scheduled_job_reads_what_is_due_through_its_index(
    db: Session, job: Any, indexes: list[str]
) -> None:
    selects = _selects_run_by(db, lambda: job(db))
    assert len(selects) == len(indexes)
    for (statement, parameters), index in zip(selects, indexes, strict=True):
        assert index in _plan(db, statement, parameters), statement
