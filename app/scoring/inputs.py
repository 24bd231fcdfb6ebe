"""What the scoring engine is told about a subject: its records and list entries that still count.

Rescoring takes the subjects' row locks first (``FOR NO KEY UPDATE``: it does not block inserts that only
reference the subject), so two transactions that change one subject's records cannot both store a score
computed without the other's change; the second waits, then reads both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func, or_, select
from sqlmodel import Session, SQLModel, col

from app.core.bulk import fetch_tuples, in_chunks, one_of
from app.records.catalog import ListStatus, RecordStatus
from app.records.models import CreditRecord, ListEntry
from app.scoring import service as scoring_service
from app.scoring.engine import ListInput, RecordInput, ScoringInputs
from app.subjects.models import Subject

COUNTING = (RecordStatus.active.value, RecordStatus.disputed.value)


def lock_subjects(session: Session, subject_ids: Iterable[str]) -> None:
    """In id order, so that two writers locking overlapping sets cannot deadlock."""
    for chunk in in_chunks(session, sorted(set(subject_ids))):
        session.execute(
            select(col(Subject.id))
            .where(one_of(session, col(Subject.id), chunk))
            .order_by(col(Subject.id))
            .with_for_update(key_share=True)
        ).all()


_RECORDS: Table = SQLModel.metadata.tables[str(CreditRecord.__tablename__)]
_LISTS: Table = SQLModel.metadata.tables[str(ListEntry.__tablename__)]
# The factor key (catalog.factor_key) built by the database: category, then outcome, grade, severity.
_FACTOR_KEY = (
    _RECORDS.c.category
    + func.coalesce("." + _RECORDS.c.outcome, "")
    + func.coalesce("." + _RECORDS.c.grade, "")
    + func.coalesce("." + _RECORDS.c.severity, "")
)
_SubjectFilter = Callable[[Any], ColumnElement[bool]]


def _collect(
    session: Session, which: _SubjectFilter, as_of: date
) -> tuple[dict[str, list[RecordInput]], dict[str, list[ListInput]]]:
    """The records and list entries that count on ``as_of`` of the subjects ``which`` selects (Core
    queries: this runs for every subject of a rebuild)."""
    records: dict[str, list[RecordInput]] = {}
    statement = select(
        _RECORDS.c.subject_id,
        _RECORDS.c.id,
        _FACTOR_KEY,
        _RECORDS.c.status,
        _RECORDS.c.counts_until,
        _RECORDS.c.publicity_min_ends_on,  # set for 失信 records only: repair may be asked from then
    ).where(
        which(_RECORDS.c.subject_id),
        _RECORDS.c.status.in_(COUNTING),
        or_(_RECORDS.c.counts_until.is_(None), _RECORDS.c.counts_until > as_of),
    )
    make = RecordInput._make  # a rebuild reads every record: build the tuples without keyword handling
    for row in fetch_tuples(session, statement, binary=True):
        records.setdefault(row[0], []).append(make(row[1:]))
    return records, collect_lists(session, which, as_of)


def collect_lists(session: Session, which: _SubjectFilter, as_of: date) -> dict[str, list[ListInput]]:
    lists: dict[str, list[ListInput]] = {}
    list_statement = select(_LISTS.c.subject_id, _LISTS.c.id, _LISTS.c.list_type, _LISTS.c.ends_on).where(
        which(_LISTS.c.subject_id),
        _LISTS.c.status == ListStatus.active.value,
        or_(_LISTS.c.ends_on.is_(None), _LISTS.c.ends_on > as_of),
    )
    for subject_id, entry_id, list_type, ends_on in fetch_tuples(session, list_statement, binary=True):
        lists.setdefault(subject_id, []).append(
            ListInput(entry_id, list_type, ListStatus.active.value, ends_on)
        )
    return lists


def _inputs(records: list[RecordInput] | None, lists: list[ListInput] | None) -> ScoringInputs:
    return ScoringInputs(tuple(records or ()), tuple(lists or ()))


def inputs_for(session: Session, subject_ids: Iterable[str], as_of: date) -> dict[str, ScoringInputs]:
    """Inputs for each subject named, including those with nothing that counts (the base score)."""
    result: dict[str, ScoringInputs] = {}
    for chunk in in_chunks(session, sorted(set(subject_ids))):
        records, lists = _collect(session, functools.partial(one_of, session, values=chunk), as_of)
        for subject_id in chunk:
            result[subject_id] = _inputs(records.get(subject_id), lists.get(subject_id))
    return result


def inputs_between(session: Session, subject_ids: list[str], as_of: date) -> dict[str, ScoringInputs]:
    """Like :func:`inputs_for` for a sorted run of consecutive subject ids (a rebuild batch): one range
    scan instead of a long IN list."""
    first, last = subject_ids[0], subject_ids[-1]
    records, lists = _collect(session, lambda column: column.between(first, last), as_of)
    return {sid: _inputs(records.get(sid), lists.get(sid)) for sid in subject_ids}


def inputs_of(session: Session, subject_id: str, as_of: date) -> ScoringInputs:
    return inputs_for(session, [subject_id], as_of)[subject_id]


def recompute_subjects(
    session: Session, subject_ids: Iterable[str], *, trigger: str, today: date, now: datetime | None = None
) -> int:
    """Lock, read and rescore; returns how many scores changed. Call it in the transaction that changed
    the subjects' records or lists."""
    ids = sorted(set(subject_ids))
    if not ids:
        return 0
    lock_subjects(session, ids)
    return scoring_service.recompute_many(
        session, inputs_for(session, ids, today), trigger=trigger, as_of=today, now=now
    )
