"""Bulk writes (app.core.bulk) on both databases: COPY and staging tables on PostgreSQL, executemany on
SQLite, with the same results."""

from __future__ import annotations

import gc
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Table, text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, SQLModel, select

from app.core.bulk import (
    _column_text,
    _copy_text,
    analyze,
    dumps,
    each_of,
    few_collections,
    insert_rows,
    insert_rows_skipping_conflicts,
    insert_tuples,
    new_ids,
)
from app.core.clock import utcnow
from app.records import tasks
from app.scoring.models import ScoreHistory
from app.subjects.models import Subject
from tests.records.helpers import uid

SUBJECTS: Table = SQLModel.metadata.tables["subjects"]


def enterprise(subject_id: str, uscc: str) -> dict[str, object]:
    return {"id": subject_id, "kind": "enterprise", "uscc": uscc, "created_at": utcnow()}


def test_insert_skipping_conflicts_lands_new_rows_and_skips_taken_keys(db: Session):
    taken, fresh = uid("T")[:18], uid("F")[:18]
    first, second, third = new_ids("sub", 3)
    insert_rows_skipping_conflicts(db, SUBJECTS, [enterprise(first, taken)], "uscc")

    # Another transaction created `taken` meanwhile: that row is skipped, not an error.
    insert_rows_skipping_conflicts(
        db, SUBJECTS, [enterprise(second, taken), enterprise(third, fresh)], "uscc"
    )

    rows = db.exec(select(Subject.id, Subject.uscc).where(Subject.uscc.in_([taken, fresh]))).all()  # type: ignore[union-attr]
    assert sorted(rows, key=lambda row: row[1]) == sorted(
        [(first, taken), (third, fresh)], key=lambda row: row[1]
    )


def test_insert_skipping_conflicts_with_no_rows_does_nothing(db: Session):
    before = len(db.exec(select(Subject.id)).all())
    insert_rows_skipping_conflicts(db, SUBJECTS, [], "uscc")
    assert len(db.exec(select(Subject.id)).all()) == before


def test_dumps_writes_the_text_of_compact_json_with_non_ascii_kept():
    value = {"reasons": [["black_list", "lists", -351, 1]], "label": "信用良好", "x": None, "ok": True}
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


HISTORY: Table = SQLModel.metadata.tables["credit_score_history"]
HISTORY_COLUMNS = ("id", "subject_id", "score", "level", "blocked", "model_version", "top_reasons", "trigger", "computed_at")  # fmt: skip


def test_insert_tuples_lands_every_kind_of_value_as_given(db: Session):
    """On PostgreSQL the rows travel as COPY text: tabs, newlines and backslashes must survive it."""
    subject_id = new_ids("sub", 1)[0]
    insert_rows_skipping_conflicts(db, SUBJECTS, [enterprise(subject_id, uid("Q")[:18])], "uscc")
    when = datetime(2026, 11, 27, 4, 5, 6, 789_000, tzinfo=UTC)
    awkward = ["tab\there", "line\nbreak", "back\\slash", "cr\rx", "信用", ""]
    first, second = new_ids("sch", 2)
    insert_tuples(
        db,
        HISTORY,
        HISTORY_COLUMNS,
        [
            (first, subject_id, -3, "D", True, "v1", awkward, "a\tb\\c\nd", when),
            (second, subject_id, 1000, "AAA", False, "v1", dumps(awkward), "rebuild", when),
        ],
    )

    rows = db.exec(
        select(ScoreHistory).where(ScoreHistory.subject_id == subject_id).order_by(ScoreHistory.id)  # type: ignore[arg-type]
    ).all()
    assert [(r.id, r.score, r.level, r.blocked, r.top_reasons, r.trigger, r.computed_at) for r in rows] == [
        (first, -3, "D", True, awkward, "a\tb\\c\nd", when),
        (second, 1000, "AAA", False, awkward, "rebuild", when),
    ]


def test_insert_tuples_refuses_a_naive_time_and_writes_nothing(db: Session):
    subject_id = new_ids("sub", 1)[0]
    insert_rows_skipping_conflicts(db, SUBJECTS, [enterprise(subject_id, uid("N")[:18])], "uscc")
    row = (new_ids("sch", 1)[0], subject_id, 1, "D", False, "v1", [], "t", datetime(2026, 11, 27))
    with pytest.raises((ValueError, StatementError)):
        insert_tuples(db, HISTORY, HISTORY_COLUMNS, [row])

    assert db.exec(select(ScoreHistory).where(ScoreHistory.subject_id == subject_id)).all() == []


def test_insert_rows_lands_every_kind_of_value_as_given(db: Session):
    """insert_rows formats a column at a time on PostgreSQL: the same values come back as insert_tuples'."""
    subject_id = new_ids("sub", 1)[0]
    insert_rows_skipping_conflicts(db, SUBJECTS, [enterprise(subject_id, uid("R")[:18])], "uscc")
    when = datetime(2026, 11, 27, 4, 5, 6, 789_000, tzinfo=UTC)
    later = datetime(2026, 11, 27, 12, 5, 6, tzinfo=timezone(timedelta(hours=8)))
    awkward = ["tab\there", "line\nbreak", "back\\slash", "cr\rx", "信用", ""]
    first, second, third = new_ids("sch", 3)
    columns = dict.fromkeys(HISTORY_COLUMNS)
    insert_rows(
        db,
        HISTORY,
        [
            {**columns, "id": first, "subject_id": subject_id, "score": -3, "level": "D", "blocked": True,
             "model_version": "v1", "top_reasons": awkward, "trigger": "a\tb\\c\nd", "computed_at": when},
            {**columns, "id": second, "subject_id": subject_id, "score": 1000, "level": "AAA", "blocked": False,
             "model_version": "v1", "top_reasons": dumps(awkward), "trigger": "rebuild", "computed_at": later},
            {**columns, "id": third, "subject_id": subject_id, "score": 0, "level": "\\N", "blocked": False,
             "model_version": "v1", "top_reasons": [], "trigger": "信用", "computed_at": when},
        ],
    )  # fmt: skip

    rows = db.exec(
        select(ScoreHistory).where(ScoreHistory.subject_id == subject_id).order_by(ScoreHistory.id)  # type: ignore[arg-type]
    ).all()
    assert [(r.id, r.score, r.level, r.blocked, r.top_reasons, r.trigger, r.computed_at) for r in rows] == [
        (first, -3, "D", True, awkward, "a\tb\\c\nd", when),
        (second, 1000, "AAA", False, awkward, "rebuild", later),
        (third, 0, "\\N", False, [], "信用", when),
    ]


def test_column_text_gives_what_copy_text_gives_for_each_value():
    day, when = date(2026, 11, 27), datetime(2026, 11, 27, 4, 5, 6, tzinfo=UTC)
    columns = [
        ["plain", "tab\there", "back\\slash", None, "", "信用\n"],
        [day, None, day, date(1949, 10, 1)],
        [when, when, None],
        [1, True, False, None, -5],
        [{"a": ["x\ty"]}, None, ["信用"]],
    ]
    for values in columns:
        assert _column_text(values) == [_copy_text(value, {}) for value in values]
    assert _column_text([["x"], None], is_json=True) == ['["x"]', "\\N"]


def test_few_collections_holds_the_collector_back_and_restores_it():
    gc.unfreeze()  # an app started earlier in this process may have frozen its objects (app.main.tune_gc)
    before_threshold = gc.get_threshold()
    with few_collections():
        assert gc.get_threshold()[0] == 50_000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before_threshold
    assert gc.get_freeze_count() == 0


def test_few_collections_leaves_a_frozen_server_process_frozen():
    gc.freeze()
    frozen = gc.get_freeze_count()
    try:
        with few_collections():
            assert gc.get_threshold()[0] == 50_000
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()


def test_each_of_joins_every_value_as_given(db: Session):
    """On PostgreSQL the values travel as one array literal: quotes, backslashes, commas and braces
    must survive it."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("each_of is PostgreSQL's")
    values = ["plain", 'with "quotes"', "back\\slash", "a,b", "{braces}", "NULL", "信用", " spaced ", ""]
    wanted = each_of(values)
    assert sorted(db.exec(select(wanted.c.value)).all()) == sorted(values)  # type: ignore[call-overload]


def test_analyze_skips_a_table_it_cannot_lock_soon_and_does_the_others(committed_engine):
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's here; nothing to do on SQLite")
    with committed_engine.connect() as holder:
        holder.execute(text("LOCK TABLE credit_records IN SHARE UPDATE EXCLUSIVE MODE"))  # as a VACUUM would
        with Session(committed_engine) as session:
            analyze(session, ["credit_records", "subjects"], lock_timeout="100ms")
            session.commit()
        holder.rollback()
    with committed_engine.connect() as conn:
        analyzed = conn.execute(
            text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze > now() - interval '1 minute'")
        ).scalars()
        assert "subjects" in set(analyzed)


def test_an_import_analyzes_each_time_it_has_doubled_the_records(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(tasks, "analyze", lambda session, tables: calls.append(len(tables)))
    monkeypatch.setattr(tasks, "Session", _NoSession)
    statistics = tasks._Statistics(rows_at_last=0)
    landed = []
    for created in [100, 50, 50, 0, 100, 150, 250]:  # totals 100, 150, 200, 200, 300, 450, 700
        before = len(calls)
        statistics.landed(None, created)  # type: ignore[arg-type]
        landed.append(len(calls) > before)
    # After the first chunk (0 -> 100), at 200 (doubled), then at 450 (>= 400); not at 700 (< 900).
    assert landed == [True, False, True, False, False, True, False]


class _NoSession:
    def __init__(self, _engine: object) -> None: ...
    def __enter__(self) -> _NoSession:
        return self

    def __exit__(self, *_: object) -> None: ...
    def commit(self) -> None: ...
