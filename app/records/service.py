"""Public credit records and red/black lists: ingestion, the "is this subject blocked" answer every
scenario asks, status changes, expiry, and the scoring inputs of a subject.

Every change of a subject's records or list entries rescores it in the same transaction
(:func:`app.scoring.inputs.recompute_subjects`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, bindparam, exists, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.core.clock import business_date, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.security import Crypto
from app.records.catalog import ListStatus, ListType, RecordStatus
from app.records.files import RecordFile
from app.records.ingest import INGESTION, BatchContext, ChunkOutcome, land_chunk
from app.records.models import LIST_ENTRY_DUE_WHERE, RECORD_DUE_WHERE, CreditRecord, ListEntry, RecordBatch
from app.records.validation import RowError, RowValidator, ValidRow
from app.scoring import inputs as scoring_inputs
from app.scoring.engine import ScoringInputs

MAX_BATCH_ROWS = 10_000
EXPIRE_BATCH = 5_000


def black_list_in_force(
    subject_id: ColumnElement[str] | str, today: ColumnElement[date] | date
) -> ColumnElement[bool]:
    """The condition behind :func:`is_blocked` as an SQL expression (``EXISTS``), also for a reader that
    asks it of many subjects at once (the offline deny list)."""
    return exists().where(
        col(ListEntry.subject_id) == subject_id,
        col(ListEntry.list_type) == ListType.black,
        col(ListEntry.status) == ListStatus.active,
        or_(col(ListEntry.ends_on).is_(None), col(ListEntry.ends_on) > today),
    )


# Built once: every verification runs it (app.core.db).
_BLOCKED = sa_select(black_list_in_force(bindparam("subject_id"), bindparam("today")))


def is_blocked(session: Session, subject_id: str, today: date | None = None) -> bool:
    """True while the subject has a black-list entry in force. Every scenario asks this before granting
    anything (一处失信、处处受限); it reads the lists themselves, not the stored score."""
    return bool(
        session.execute(_BLOCKED, {"subject_id": subject_id, "today": today or business_date()}).scalar()
    )


def scoring_inputs_for(session: Session, subject_id: str, today: date | None = None) -> ScoringInputs:
    """What the scoring engine is told about this subject today."""
    return scoring_inputs.inputs_of(session, subject_id, today or business_date())


# --- ingestion ----------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    batch: RecordBatch
    errors: list[RowError] = field(default_factory=list)


def start_batch(
    session: Session, *, source: str, channel: str, actor: Principal, file_name: str | None = None
) -> RecordBatch:
    batch = RecordBatch(
        source=source,
        channel=channel,
        submitted_by=f"{actor.actor_type}:{actor.actor_id}",
        file_name=file_name,
    )
    session.add(batch)
    session.flush()
    return batch


def ingest_chunk(
    session: Session,
    crypto: Crypto,
    batch: RecordBatch,
    actor: Principal,
    rows: Iterable[tuple[int, Any]],
    *,
    validator: RowValidator,
    seen: set[str],
    now: datetime | None = None,
) -> ChunkOutcome:
    """Validate and land one chunk of numbered rows; the batch's counts grow by what happened."""
    valid: list[ValidRow] = []
    errors: list[RowError] = []
    received = 0
    for number, raw in rows:
        received += 1
        # A row may come checked already (a file import validates the next chunk while this one lands).
        checked = raw if isinstance(raw, list | ValidRow) else validator.validate(number, raw)
        if isinstance(checked, ValidRow):
            valid.append(checked)
        else:
            errors.extend(checked)
    ctx = BatchContext(batch.id, batch.source, actor, validator.today, now or utcnow(), crypto)
    outcome = land_chunk(session, ctx, valid, seen)
    outcome.errors = sorted([*errors, *outcome.errors], key=lambda error: error.row)
    batch.received += received
    batch.created += outcome.created
    batch.updated += outcome.updated
    batch.unchanged += outcome.unchanged
    batch.rejected += len({error.row for error in outcome.errors})
    session.add(batch)
    session.flush()
    return outcome


def finish_batch(session: Session, batch: RecordBatch, actor: Principal) -> RecordBatch:
    batch.status = "completed"
    batch.finished_at = utcnow()
    session.add(batch)
    session.flush()
    INGESTION.record(
        session,
        actor,
        "records.batch_ingested",
        {
            "batch_id": batch.id,
            "source": batch.source,
            "channel": batch.channel,
            "received": batch.received,
            "created": batch.created,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "rejected": batch.rejected,
        },
    )
    return batch


def submit_batch(session: Session, crypto: Crypto, partner: Principal, rows: list[Any]) -> BatchResult:
    """A data provider's API batch: all rows in one transaction; the source is the partner itself."""
    if not rows:
        raise InvalidInput("records: send at least one row.", code="empty_batch", param="records")
    if len(rows) > MAX_BATCH_ROWS:
        raise InvalidInput(
            f"records: at most {MAX_BATCH_ROWS} rows per batch; split it.",
            code="batch_too_large",
            param="records",
        )
    batch = start_batch(session, source=partner.id, channel="api", actor=partner)
    validator = RowValidator(business_date())
    outcome = ingest_chunk(
        session, crypto, batch, partner, enumerate(rows, start=1), validator=validator, seen=set()
    )
    return BatchResult(finish_batch(session, batch, partner), outcome.errors)


FILE_CHUNK_ROWS = 2_000


def submit_file(
    session: Session, crypto: Crypto, partner: Principal, record_file: RecordFile, file_name: str
) -> BatchResult:
    """A data provider's uploaded file (CSV or JSON Lines, as ``xinyi records import`` reads it): at most as
    many rows as an API batch, all in this one transaction; larger files go through the CLI."""
    if record_file.line_count() > MAX_BATCH_ROWS:
        raise InvalidInput(
            f"file: at most {MAX_BATCH_ROWS} rows per upload; split it, or use `xinyi records import`.",
            code="batch_too_large",
            param="file",
        )
    batch = start_batch(session, source=partner.id, channel="file", actor=partner, file_name=file_name[:255])
    validator = RowValidator(business_date())
    errors: list[RowError] = []
    seen: set[str] = set()
    rows = record_file.rows()
    while chunk := list(islice(rows, FILE_CHUNK_ROWS)):
        outcome = ingest_chunk(session, crypto, batch, partner, chunk, validator=validator, seen=seen)
        errors.extend(outcome.errors)
    if batch.received == 0:
        raise InvalidInput("file: it has no rows.", code="empty_batch", param="file")
    return BatchResult(finish_batch(session, batch, partner), errors)


def batches(
    session: Session,
    params: PageParams,
    *,
    source: str | None = None,
    channel: str | None = None,
    status: str | None = None,
) -> tuple[list[RecordBatch], bool]:
    """Batches and file import runs, newest first: one source's (a provider reads its own), or every
    source's (operators), optionally of one channel (``api``, ``file``) and status (``running``,
    ``completed``)."""
    statement = select(RecordBatch)
    for column, wanted in (
        (RecordBatch.source, source),
        (RecordBatch.channel, channel),
        (RecordBatch.status, status),
    ):
        if wanted is not None:
            statement = statement.where(column == wanted)
    return fetch_page(session, statement, RecordBatch.id, params)


# --- status changes and expiry ------------------------------------------------------------------------

_TRANSITIONS: dict[RecordStatus, frozenset[RecordStatus]] = {
    RecordStatus.active: frozenset({RecordStatus.disputed, RecordStatus.repaired}),
    RecordStatus.disputed: frozenset({RecordStatus.active, RecordStatus.repaired, RecordStatus.withdrawn}),
    RecordStatus.repaired: frozenset(),
    RecordStatus.expired: frozenset(),
    RecordStatus.withdrawn: frozenset(),
}


def get_record(session: Session, record_id: str) -> CreditRecord:
    # Records are written in bulk, past the ORM: read the row as it is now.
    record = session.exec(
        select(CreditRecord).where(CreditRecord.id == record_id).execution_options(populate_existing=True)
    ).first()
    if record is None:
        raise NotFound("No record with this id.", code="record_not_found", param="record_id")
    return record


def set_record_status(
    session: Session,
    actor: Principal,
    record_id: str,
    status: RecordStatus,
    *,
    grounds: audit_service.Grounds,
    today: date | None = None,
) -> CreditRecord:
    """Objections (disputed, back to active) and credit repair (repaired) move a record; the subject is
    rescored and the change audited in the same transaction."""
    record = get_record(session, record_id)
    current = RecordStatus(record.status)
    if status not in _TRANSITIONS[current]:
        raise Conflict(
            f"A {current.value} record cannot become {status.value}.",
            code="invalid_status_change",
            param="status",
        )
    record.status = status
    save_change(
        session,
        actor,
        record,
        "record.status_changed",
        {"record_id": record.id, "from": current.value, "to": status.value},
        grounds=grounds,
        trigger="record_status",
        today=today or business_date(),
    )
    return record


def save_change(
    session: Session,
    actor: Principal,
    record: CreditRecord,
    action: str,
    details: dict[str, Any],
    *,
    grounds: audit_service.Grounds,
    trigger: str,
    today: date,
) -> None:
    """A record changed by a decision about it (status, correction): saved, audited on its subject's
    chain and the subject rescored, all in this transaction."""
    record.updated_at = utcnow()
    session.add(record)
    session.flush()
    grounds.record(session, actor, action, details, subject_id=record.subject_id)
    scoring_inputs.recompute_subjects(session, [record.subject_id], trigger=trigger, today=today)


@dataclass
class ExpiryOutcome:
    records: int = 0
    list_entries: int = 0
    rescored: int = 0


_Expiring = TypeVar("_Expiring", CreditRecord, ListEntry)


def expire_due(session: Session, today: date, limit: int = EXPIRE_BATCH) -> ExpiryOutcome:
    """Mark up to ``limit`` records and list entries whose end has come as expired and rescore their
    subjects. Run it until it returns nothing; running it again changes nothing."""
    now = utcnow()

    def expire(model: type[_Expiring], due_where: str, ends: Any, expired: str) -> list[str]:
        """Up to ``limit`` rows whose end (the column ``ends``) has come, earliest first, marked ``expired``
        (``due_where`` is the predicate of the partial index the query uses); returns their subjects."""
        due = session.execute(
            sa_select(col(model.id), col(model.subject_id))
            .where(text(due_where), col(ends) <= today)
            .order_by(col(ends), col(model.id))
            .limit(limit)
        ).all()
        if due:
            session.execute(
                update(model)
                .where(col(model.id).in_([row[0] for row in due]))
                .values(status=expired, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return [row[1] for row in due]

    records = expire(CreditRecord, RECORD_DUE_WHERE, CreditRecord.counts_until, RecordStatus.expired)
    entries = expire(ListEntry, LIST_ENTRY_DUE_WHERE, ListEntry.ends_on, ListStatus.expired)
    subjects = set(records) | set(entries)
    rescored = scoring_inputs.recompute_subjects(session, subjects, trigger="expiry", today=today, now=now)
    return ExpiryOutcome(len(records), len(entries), rescored)


# --- reading ------------------------------------------------------------------------------------------


def records_of(session: Session, subject_id: str, params: PageParams) -> tuple[list[CreditRecord], bool]:
    statement = (
        select(CreditRecord)
        .where(CreditRecord.subject_id == subject_id)
        .execution_options(populate_existing=True)
    )
    return fetch_page(session, statement, cast(InstrumentedAttribute[str], CreditRecord.id), params)


def list_entries_of(session: Session, subject_id: str) -> list[ListEntry]:
    statement = (
        select(ListEntry)
        .where(ListEntry.subject_id == subject_id)
        .order_by(col(ListEntry.id).desc())
        .execution_options(populate_existing=True)
    )
    return list(session.exec(statement).all())
