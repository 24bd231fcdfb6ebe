"""Long-running record work outside a request: file imports, expiry, score rebuilds.

Each opens its own sessions and commits chunk by chunk, so memory stays bounded and progress is real;
each chunk is one transaction that also rescores the subjects it touched. All three are safe to run
again: an import re-sends nothing twice, expiry finds nothing left, a rebuild resumes at its checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.principal import Principal
from app.core.security import Crypto
from app.records import service
from app.records.files import RecordFile
from app.records.ingest import ChunkOutcome, ConcurrentIngestion
from app.records.models import RecordBatch
from app.records.rebuild import RebuildSummary, run_rebuild, start_rebuild
from app.records.validation import RowError, RowValidator, ValidRow
from app.scoring.engine import business_date

__all__ = ["RebuildSummary", "run_rebuild", "start_rebuild"]  # the score rebuild: app.records.rebuild

CLI_ACTOR = Principal(type="system", id="cli")
T = TypeVar("T")


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _checked_chunks(
    record_file: RecordFile, validator: RowValidator, size: int
) -> Iterator[list[tuple[int, ValidRow | list[RowError]]]]:
    for chunk in _batched(record_file.rows(), size):
        yield [
            (number, raw if isinstance(raw, list) else validator.validate(number, raw))
            for number, raw in chunk
        ]


def _prefetched(chunks: Iterator[T]) -> Iterator[T]:
    """Produce the next item on a thread while the caller works on this one. Reading and checking a
    chunk is Python work; landing one mostly waits for the database, with the GIL released."""
    with ThreadPoolExecutor(1, thread_name_prefix="import-reader") as reader:
        upcoming = reader.submit(next, chunks, None)
        while (item := upcoming.result()) is not None:
            upcoming = reader.submit(next, chunks, None)
            yield item


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
    for chunk in _prefetched(_checked_chunks(record_file, validator, chunk_size)):
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
