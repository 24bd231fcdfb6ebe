"""Bulk writes (app.core.bulk) on both databases: COPY and staging tables on PostgreSQL, executemany on
SQLite, with the same results."""

from __future__ import annotations

import json

from sqlalchemy import Table
from sqlmodel import Session, SQLModel, select

from app.core.bulk import dumps, insert_rows_skipping_conflicts, new_ids
from app.core.clock import utcnow
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
