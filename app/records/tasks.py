"""Long-running record work outside a request: file imports and expiry (the score rebuild:
:mod:`app.scoring.rebuild`).

Each opens its own sessions and commits chunk by chunk, so memory stays bounded and progress is real;
each chunk is one transaction that also rescores the subjects it touched. Both are safe to run
again: an import re-sends nothing twice, expiry finds nothing left.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from itertools import islice
from queue import Empty
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from app.core.bulk import analyze, estimated_rows, few_collections
from app.core.clock import business_date
from app.core.principal import Principal
from app.core.security import Crypto
from app.records import service
from app.records.files import RecordFile
from app.records.ingest import ChunkOutcome, ConcurrentIngestion, prepare
from app.records.models import RecordBatch
from app.records.validation import RowError, RowValidator, ValidRow

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
        checked = [
            (number, raw if isinstance(raw, list) else validator.validate(number, raw))
            for number, raw in chunk
        ]
        for _, row in checked:
            if isinstance(row, ValidRow):
                prepare(row)
        yield checked


def _prefetched(chunks: Iterator[T]) -> Generator[T, None, None]:
    """Produce the next item on a thread while the caller works on this one. Reading and checking a
    chunk is Python work; landing one mostly waits for the database, with the GIL released."""
    with ThreadPoolExecutor(1, thread_name_prefix="import-reader") as reader:
        upcoming = reader.submit(next, chunks, None)
        while (item := upcoming.result()) is not None:
            upcoming = reader.submit(next, chunks, None)
            yield item


# A file at least this large is read and checked by a process of its own (on PostgreSQL).
READER_PROCESS_MIN_BYTES = 1 << 20
_READ_AHEAD = 2  # chunks checked ahead of the one landing: bounds the reader's lead (memory)

Checked = list[tuple[int, ValidRow | list[RowError]]]


def _check_in_child(record_file: RecordFile, validator: RowValidator, size: int, queue: Any) -> None:
    """The reader process: every chunk checked, with how far into the file it reached; then None."""
    try:
        for chunk in _checked_chunks(record_file, validator, size):
            queue.put((chunk, record_file.position))
        queue.put(None)
    except BaseException as exc:  # handed to the parent, which raises it
        queue.put(RuntimeError(f"reading {record_file.path.name} failed: {exc!r}"))


def _checked_in_process(
    record_file: RecordFile, validator: RowValidator, size: int
) -> Generator[Checked, None, None]:
    """Chunks read and checked by a forked process while this one lands the previous ones: a second
    core does the parsing and validation (under a thread it shared this process's GIL, and every
    database round trip of the lander waited for the reader to let go of it). The child never
    touches the database and ends with ``os._exit`` (multiprocessing), closing none of our connections."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=_READ_AHEAD)
    reader = context.Process(
        target=_check_in_child, args=(record_file, validator, size, queue), name="import-reader", daemon=True
    )
    reader.start()
    try:
        while True:
            try:
                item = queue.get(timeout=1.0)
            except Empty:
                if reader.exitcode is not None:
                    raise RuntimeError(f"the reader process ended unexpectedly ({reader.exitcode})") from None
                continue
            if item is None:
                record_file.reached(record_file.size)
                return
            if isinstance(item, BaseException):
                raise item
            chunk, position = item
            record_file.reached(position)
            yield chunk
    finally:
        if reader.is_alive():
            reader.kill()
        reader.join()
        queue.close()


def _read_ahead(
    engine: Engine, record_file: RecordFile, validator: RowValidator, size: int
) -> Generator[Checked, None, None]:
    if engine.dialect.name == "postgresql" and record_file.size >= READER_PROCESS_MIN_BYTES:
        engine.dispose()  # as for the parallel score rebuild: no connection of ours open across the fork
        return _checked_in_process(record_file, validator, size)
    return _prefetched(_checked_chunks(record_file, validator, size))


# The tables an import grows, credit_records first (the largest, whose size sets the pace).
_GROWING = ("credit_records", "credit_list_entries", "subjects", "credit_scores", "credit_score_history")


@dataclass
class _Statistics:
    """Keeps the planner's statistics in step with an import: ANALYZE each time the rows this import
    created since the last one reach the size the table had then (so about log2(growth) times: ~8
    for 1M rows into an empty table, never for a small file into a large table)."""

    rows_at_last: int
    since_last: int = 0

    def landed(self, engine: Engine, created: int) -> None:
        self.since_last += created
        if created == 0 or self.since_last < max(self.rows_at_last, 1):
            return
        with Session(engine) as session:
            analyze(session, _GROWING)
            session.commit()
        self.rows_at_last += self.since_last
        self.since_last = 0


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
    chunk_size: int = 20_000,
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
        statistics = _Statistics(estimated_rows(session, _GROWING[0]))
    validator = RowValidator(today or business_date())
    # Millions of short-lived rows: keep the cyclic collector from scanning them (see few_collections).
    with few_collections(), closing(_read_ahead(engine, record_file, validator, chunk_size)) as chunks:
        for chunk in chunks:  # on an error, closing stops the reader at once
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
            statistics.landed(engine, outcome.created)
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
