"""Landing validated rows, a chunk at a time: set-based, never row by row through the ORM.

For one chunk: drop duplicates, resolve every subject with a few queries (creating the ones departments
may introduce), look up which (source, source_record_id) already exist, insert the new ones in bulk (COPY
on PostgreSQL), update and audit the corrected ones, and recompute the score of every subject touched —
all in the caller's transaction, so the next check already sees the new score.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Table, and_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from app.audit import service as audit_service
from app.core.bulk import each_of, in_chunks, insert_rows, is_postgresql, new_ids, update_rows
from app.core.errors import Conflict
from app.core.principal import Principal
from app.core.security import Crypto
from app.records.catalog import CATEGORIES, ListStatus, RecordStatus, Window, window
from app.records.models import CreditRecord, ListEntry
from app.records.validation import RowError, ValidRow
from app.scoring import inputs as scoring_inputs
from app.subjects import bulk as subjects_bulk

# Why a batch's records, list entries and the batch itself are written to the audit log.
INGESTION = audit_service.Grounds(
    purpose="public credit information ingestion",
    legal_basis="public credit information sharing (公共信用信息归集)",
)
_RECORDS: Table = SQLModel.metadata.tables[str(CreditRecord.__tablename__)]
_LISTS: Table = SQLModel.metadata.tables[str(ListEntry.__tablename__)]
RECORD_CONTENT = (
    "subject_id",
    "category",
    "severity",
    "outcome",
    "grade",
    "title",
    "legal_basis",
    "decision_date",
    "conduct_end_date",
)
LIST_CONTENT = ("subject_id", "list_type", "title", "legal_basis", "starts_on", "ends_on")


class ConcurrentIngestion(Conflict):
    code = "concurrent_ingestion"

    def __init__(self) -> None:
        super().__init__("Another batch wrote some of the same records at the same moment; send it again.")


@dataclass
class BatchContext:
    batch_id: str
    source: str
    actor: Principal
    today: date
    now: datetime
    crypto: Crypto


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)


def content_hash(values: dict[str, Any], names: Sequence[str]) -> str:
    joined = "\x1f".join("" if values[name] is None else str(values[name]) for name in names)
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


def _error(row: ValidRow, field_name: str, code: str, message: str) -> RowError:
    return RowError(row.row, field_name, code, message, row.source_record_id)


def _drop_duplicates(rows: list[ValidRow], outcome: ChunkOutcome, seen: set[str]) -> list[ValidRow]:
    kept = []
    for row in rows:
        if row.source_record_id in seen:
            outcome.errors.append(
                _error(
                    row, "source_record_id", "duplicate_in_batch", "the same source_record_id came earlier"
                )
            )
        else:
            seen.add(row.source_record_id)
            kept.append(row)
    return kept


def _resolve_subjects(
    session: Session, ctx: BatchContext, rows: list[ValidRow], outcome: ChunkOutcome
) -> list[tuple[ValidRow, str]]:
    wanted: dict[str, dict[bool, set[str]]] = {
        "id_number": {True: set(), False: set()},
        "uscc": {True: set(), False: set()},
    }
    subject_ids: set[str] = set()
    for row in rows:
        if row.subject_by == "subject_id":
            subject_ids.add(row.subject_key)
        else:
            wanted[row.subject_by][row.category.creates_subject].add(row.subject_key)
    people = subjects_bulk.people_by_id_number(session, ctx.crypto, wanted["id_number"][True], create=True)
    people.update(
        subjects_bulk.people_by_id_number(
            session, ctx.crypto, wanted["id_number"][False] - people.keys(), create=False
        )
    )
    firms = subjects_bulk.enterprises_by_uscc(session, wanted["uscc"][True], create=True)
    firms.update(
        subjects_bulk.enterprises_by_uscc(session, wanted["uscc"][False] - firms.keys(), create=False)
    )
    kinds = subjects_bulk.kinds_of(session, subject_ids)
    resolved = []
    for row in rows:
        if row.subject_by == "subject_id":
            kind = kinds.get(row.subject_key)
            if kind is None:
                outcome.errors.append(_error(row, "subject_id", "unknown_subject", "no subject has this id"))
                continue
            if row.category.list_type is None and kind not in row.category.subject_kinds:
                outcome.errors.append(
                    _error(
                        row,
                        "subject_id",
                        "subject_kind_not_allowed",
                        f"a {row.category.code} record cannot be about a {kind}",
                    )
                )
                continue
            resolved.append((row, row.subject_key))
            continue
        found = (people if row.subject_by == "id_number" else firms).get(row.subject_key)
        if found is None:
            outcome.errors.append(
                _error(
                    row,
                    row.subject_by,
                    "unknown_subject",
                    f"{row.category.code} needs a subject already known to the platform",
                )
            )
            continue
        resolved.append((row, found))
    return resolved


def _existing(
    session: Session, table: Table, source: str, ids: list[str], columns: Sequence[str]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    selected = [
        table.c.id,
        table.c.source_record_id,
        table.c.batch_id,
        table.c.content_hash,
        table.c.status,
        *(table.c[name] for name in columns),
    ]
    for chunk in in_chunks(session, ids):
        if is_postgresql(session):
            wanted = each_of(chunk)
            statement = select(*selected).select_from(
                wanted.join(table, and_(table.c.source == source, table.c.source_record_id == wanted.c.value))
            )
        else:
            statement = select(*selected).where(table.c.source == source, table.c.source_record_id.in_(chunk))
        for row in session.execute(statement).mappings():
            found[row["source_record_id"]] = dict(row)
    return found


@lru_cache(maxsize=65536)
def _window(category: str, decided: date, conduct_ended: date | None, severity: str | None) -> Window:
    # A file has few distinct (category, dates, severity): compute each window once.
    return window(CATEGORIES[category], decided, conduct_ended, severity)


def prepare(row: ValidRow) -> ValidRow:
    """Work out what of a record row's values does not depend on the database (its publicity window,
    the content hash's text after the subject id) ahead of landing: a file import's reader process
    does it while the previous chunk lands. List entries are left as they are."""
    if row.category.list_type is None and row.prepared is None:
        assert row.decision_date is not None
        span = _window(row.category.code, row.decision_date, row.conduct_end_date, row.severity)
        tail = "\x1f".join(
            "" if value is None else str(value)
            for value in (
                row.category.code,
                row.severity,
                row.outcome,
                row.grade,
                row.title,
                row.legal_basis,
                row.decision_date,
                row.conduct_end_date,
            )
        )
        row.prepared = (
            span.publicity_starts_on,
            span.publicity_min_ends_on,
            span.publicity_ends_on,
            span.counts_until,
            tail,
        )
    return row


def _record_values(row: ValidRow, subject_id: str) -> dict[str, Any]:
    prepared = row.prepared or prepare(row).prepared
    assert prepared is not None
    starts_on, min_ends_on, ends_on, counts_until, tail = prepared
    # content_hash(values, RECORD_CONTENT), RECORD_CONTENT being the subject id then the fields of tail.
    digest = hashlib.blake2b(f"{subject_id}\x1f{tail}".encode(), digest_size=16).hexdigest()
    return {
        "subject_id": subject_id,
        "category": row.category.code,
        "severity": row.severity,
        "outcome": row.outcome,
        "grade": row.grade,
        "title": row.title,
        "legal_basis": row.legal_basis,
        "decision_date": row.decision_date,
        "conduct_end_date": row.conduct_end_date,
        "publicity_starts_on": starts_on,
        "publicity_min_ends_on": min_ends_on,
        "publicity_ends_on": ends_on,
        "counts_until": counts_until,
        "content_hash": digest,
    }


def _record_status(current: str | None, counts_until: date | None, today: date) -> str:
    if current in (RecordStatus.repaired, RecordStatus.withdrawn):
        return current
    if counts_until is not None and counts_until <= today:
        return RecordStatus.expired.value
    return RecordStatus.disputed.value if current == RecordStatus.disputed else RecordStatus.active.value


def _list_values(row: ValidRow, subject_id: str) -> dict[str, Any]:
    assert row.category.list_type is not None
    values: dict[str, Any] = {
        "subject_id": subject_id,
        "list_type": row.category.list_type.value,
        "title": row.title,
        "legal_basis": row.legal_basis,
        "starts_on": row.start_date,
        "ends_on": row.end_date,
    }
    values["content_hash"] = content_hash(values, LIST_CONTENT)
    return values


def _list_status(current: str | None, ends_on: date | None, today: date) -> str:
    if current == ListStatus.removed:
        return current
    return ListStatus.expired.value if ends_on is not None and ends_on <= today else ListStatus.active.value


def _land(
    session: Session,
    ctx: BatchContext,
    kind: _Kind,
    rows: list[tuple[ValidRow, dict[str, Any]]],
    outcome: ChunkOutcome,
) -> None:
    table, content = kind.table, kind.content
    existing = _existing(session, table, ctx.source, [row.source_record_id for row, _ in rows], content)
    new_rows: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row, values in rows:
        old = existing.get(row.source_record_id)
        if old is not None and old["batch_id"] == ctx.batch_id:
            outcome.errors.append(
                _error(
                    row, "source_record_id", "duplicate_in_batch", "the same source_record_id came earlier"
                )
            )
            continue
        if old is not None and old["content_hash"] == values["content_hash"]:
            outcome.unchanged += 1
            continue
        values["status"] = kind.status_of(old["status"] if old else None, values[kind.until_field], ctx.today)
        values["batch_id"] = ctx.batch_id
        values["updated_at"] = ctx.now
        outcome.subjects.add(values["subject_id"])
        if old is None:
            values.update(source=ctx.source, source_record_id=row.source_record_id, created_at=ctx.now)
            new_rows.append(values)
            continue
        values["id"] = old["id"]
        changed.append(values)
        fields = sorted(name for name in content if old[name] != values[name])
        _audit(session, ctx, values["subject_id"], f"{kind.name}.corrected", old["id"], fields)
        if old["subject_id"] != values["subject_id"]:
            outcome.subjects.add(old["subject_id"])
            _audit(session, ctx, old["subject_id"], f"{kind.name}.corrected", old["id"], fields)
    for values, new_id in zip(new_rows, new_ids(kind.id_prefix, len(new_rows)), strict=True):
        values["id"] = new_id
        if kind.audit_additions:
            _audit(session, ctx, values["subject_id"], f"{kind.name}.added", new_id, [])
    insert_rows(session, table, new_rows)
    update_rows(session, table, "id", changed)
    outcome.created += len(new_rows)
    outcome.updated += len(changed)


def _audit(
    session: Session, ctx: BatchContext, subject_id: str, action: str, ref: str, fields: list[str]
) -> None:
    details: dict[str, Any] = {"id": ref, "source": ctx.source, "batch_id": ctx.batch_id}
    if fields:
        details["fields"] = fields
    INGESTION.record(session, ctx.actor, action, details, subject_id=subject_id)


@dataclass(frozen=True)
class _Kind:
    name: str  # in audit actions: record.corrected, list_entry.added, …
    table: Table
    content: Sequence[str]  # the fields a sender controls: a change in any of them is a correction
    id_prefix: str
    until_field: str
    status_of: Callable[[str | None, date | None, date], str]
    # A black-list entry blocks the subject everywhere at once: each one is worth an audit entry.
    audit_additions: bool


RECORDS = _Kind("record", _RECORDS, RECORD_CONTENT, "rec", "counts_until", _record_status, False)
LIST_ENTRIES = _Kind("list_entry", _LISTS, LIST_CONTENT, "lst", "ends_on", _list_status, True)


def land_chunk(session: Session, ctx: BatchContext, rows: list[ValidRow], seen: set[str]) -> ChunkOutcome:
    """Land one chunk of validated rows and rescore the subjects it touched."""
    outcome = ChunkOutcome()
    resolved = _resolve_subjects(session, ctx, _drop_duplicates(rows, outcome, seen), outcome)
    records = [(row, _record_values(row, sid)) for row, sid in resolved if row.category.list_type is None]
    entries = [(row, _list_values(row, sid)) for row, sid in resolved if row.category.list_type is not None]
    try:
        for kind, items in ((RECORDS, records), (LIST_ENTRIES, entries)):
            if items:
                _land(session, ctx, kind, items, outcome)
    except (IntegrityError, psycopg.IntegrityError) as exc:
        # Both looked, found nothing, and inserted: the unique (source, source_record_id) stopped the
        # second. Its transaction is lost; sending the batch again lands it as corrections or no-ops.
        raise ConcurrentIngestion() from exc
    if outcome.subjects:
        scoring_inputs.recompute_subjects(
            session, outcome.subjects, trigger="ingestion", today=ctx.today, now=ctx.now
        )
    outcome.errors.sort(key=lambda error: error.row)
    return outcome
