"""Long-running record work outside a request: file imports, expiry, score rebuilds.

Each opens its own sessions and commits chunk by chunk, so memory stays bounded and progress is real;
each chunk is one transaction that also rescores the subjects it touched. All three are safe to run
again: an import re-sends nothing twice, expiry finds nothing left, a rebuild resumes at its checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from app.core.bulk import unprepared
from app.core.principal import Principal
from app.core.security import Crypto
from app.records import scoring_inputs, service
from app.records.files import RecordFile
from app.records.ingest import ChunkOutcome, ConcurrentIngestion
from app.records.models import RecordBatch
from app.records.validation import RowError, RowValidator
from app.scoring import service as scoring_service
from app.scoring.engine import business_date
from app.scoring.models import ScoreRebuild
from app.subjects.models import Subject

CLI_ACTOR = Principal(type="system", id="cli")
T = TypeVar("T")


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class ImportSummary:
    batch_id: str
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


def import_file(
    engine: Engine,
    crypto: Crypto,
    record_file: RecordFile,
    *,
    source: str,
    actor: Principal = CLI_ACTOR,
    chunk_size: int = 10_000,
    today: date | None = None,
    on_error: Callable[[RowError], Any] | None = None,
    on_chunk: Callable[[int, ChunkOutcome], Any] | None = None,
) -> ImportSummary:
    """Stream a checked file (:func:`app.records.files.open_record_file`) into the database."""
    with Session(engine, expire_on_commit=False) as session:
        batch = service.start_batch(
            session, source=source, channel="file", actor=actor, file_name=record_file.path.name[:255]
        )
        session.commit()
    validator = RowValidator(today or business_date())
    for chunk in _batched(record_file.rows(), chunk_size):
        for attempt in (1, 2):
            try:
                with Session(engine, expire_on_commit=False) as session:
                    current = session.get(RecordBatch, batch.id)
                    assert current is not None
                    outcome = service.ingest_chunk(
                        session, crypto, current, actor, chunk, validator=validator, seen=set()
                    )
                    session.commit()
                break
            except ConcurrentIngestion:
                if attempt == 2:  # another import wrote the same records twice in a row: give up
                    raise
        for error in outcome.errors:
            if on_error is not None:
                on_error(error)
        if on_chunk is not None:
            on_chunk(len(chunk), outcome)
    with Session(engine, expire_on_commit=False) as session:
        current = session.get(RecordBatch, batch.id)
        assert current is not None
        done = service.finish_batch(session, current, actor)
        session.commit()
    return ImportSummary(done.id, done.received, done.created, done.updated, done.unchanged, done.rejected)


@dataclass
class ExpirySummary:
    records: int = 0
    list_entries: int = 0
    rescored: int = 0


def expire(
    engine: Engine, today: date | None = None, batch_size: int = service.EXPIRE_BATCH
) -> ExpirySummary:
    """Mark everything past its end as expired, rescoring as it goes; one transaction per batch."""
    today = today or business_date()
    total = ExpirySummary()
    while True:
        with Session(engine, expire_on_commit=False) as session:
            outcome = service.expire_due(session, today, batch_size)
            session.commit()
        total.records += outcome.records
        total.list_entries += outcome.list_entries
        total.rescored += outcome.rescored
        if outcome.records < batch_size and outcome.list_entries < batch_size:
            return total


@dataclass
class RebuildSummary:
    run_id: str
    model_version: str
    total: int
    processed: int = 0
    changed: int = 0
    resumed_after: str | None = None


def start_rebuild(engine: Engine, *, restart: bool = False) -> RebuildSummary:
    """The rebuild to run: the unfinished one of the active model (resumed), or a new one."""
    with Session(engine, expire_on_commit=False) as session:
        run = scoring_service.start_rebuild(session, business_date(), restart=restart)
        statement = select(func.count()).select_from(Subject)
        if run.last_subject_id is not None:
            statement = statement.where(col(Subject.id) > run.last_subject_id)
        remaining = int(session.execute(statement).scalar_one())
        session.commit()
    return RebuildSummary(run.id, run.model_version, remaining, resumed_after=run.last_subject_id)


def run_rebuild(
    engine: Engine,
    summary: RebuildSummary,
    *,
    batch_size: int = 5_000,
    max_batches: int | None = None,
    on_batch: Callable[[int, int], Any] | None = None,
) -> RebuildSummary:
    """Rescore every subject after the checkpoint, ``batch_size`` subjects per transaction, in id order.

    Each batch locks its subjects (as every rescoring does), reads their records and lists with one range
    scan each, stores what changed and moves the checkpoint, all in one commit: stop it at any point and
    the next run resumes after the last committed batch."""
    after = summary.resumed_after
    batches = 0
    while max_batches is None or batches < max_batches:
        with Session(engine, expire_on_commit=False) as session:
            run = session.get(ScoreRebuild, summary.run_id)
            assert run is not None
            with unprepared(session):
                seen, last, changed = scoring_inputs.rescore_batch(
                    session, after=after, limit=batch_size, today=business_date()
                )
            if last is None:
                scoring_service.finish_rebuild(session, run)
                session.commit()
                return summary
            scoring_service.checkpoint_rebuild(session, run, last, seen, changed)
            session.commit()
        after = last
        batches += 1
        summary.processed += seen
        summary.changed += changed
        if on_batch is not None:
            on_batch(seen, changed)
    return summary
