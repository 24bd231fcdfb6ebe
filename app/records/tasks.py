"""Long-running record work outside a request: file imports, expiry, score rebuilds.

Each opens its own sessions and commits chunk by chunk, so memory stays bounded and progress is real;
each chunk is one transaction that also rescores the subjects it touched. All three are safe to run
again: an import re-sends nothing twice, expiry finds nothing left, a rebuild resumes at its checkpoint.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from itertools import islice
from queue import Empty
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from app.core.bulk import analyze, estimated_rows, fetch_tuples, few_collections, unprepared
from app.core.db import make_engine
from app.core.principal import Principal
from app.core.security import Crypto
from app.records import scoring_inputs, service
from app.records.files import RecordFile
from app.records.ingest import ChunkOutcome, ConcurrentIngestion, prepare
from app.records.models import RecordBatch
from app.records.validation import RowError, RowValidator, ValidRow
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
        engine.dispose()  # as for the parallel rebuild: no connection of ours open across the fork
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
    workers: int = 1,
    on_batch: Callable[[int, int], Any] | None = None,
) -> RebuildSummary:
    """Rescore every subject after the checkpoint, ``batch_size`` subjects per transaction, in id order.

    Each batch locks its subjects (as every rescoring does), reads their records and lists with one range
    scan each, stores what changed and moves the checkpoint, all in one commit: stop it at any point and
    the next run resumes after the last committed batch.

    On PostgreSQL with ``workers`` > 1 the batches are scored by that many processes at once
    (:func:`_run_parallel`): scoring is CPU-bound Python, and the database works meanwhile."""
    if workers > 1 and engine.dialect.name == "postgresql" and max_batches is None:
        return _run_parallel(engine, summary, batch_size=batch_size, workers=workers, on_batch=on_batch)
    after = summary.resumed_after
    batches = 0
    while max_batches is None or batches < max_batches:
        with few_collections(), Session(engine, expire_on_commit=False) as session:
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


# --- the parallel rebuild (PostgreSQL) ------------------------------------------------------------------

_worker_engine: Engine | None = None


def _start_worker(url: str) -> None:
    global _worker_engine
    _worker_engine = make_engine(url, pool_size=1, max_overflow=0)


def _rescore_range(first: str, last: str, today: date) -> tuple[int, int]:
    """In a worker process: one batch, one transaction."""
    assert _worker_engine is not None
    with few_collections(), Session(_worker_engine, expire_on_commit=False) as session:
        with unprepared(session):
            seen, changed = scoring_inputs.rescore_range(session, first, last, today=today)
        session.commit()
    return seen, changed


def _id_ranges(engine: Engine, after: str | None, size: int) -> Iterator[tuple[str, str]]:
    """(first, last) subject ids of consecutive batches of ``size`` after ``after``, read a page at a time
    from the primary key index (no locks: each batch locks its own subjects when it runs)."""
    while True:
        with Session(engine) as session:
            statement = select(col(Subject.id)).order_by(col(Subject.id)).limit(size)
            if after is not None:
                statement = statement.where(col(Subject.id) > after)
            ids = [row[0] for row in fetch_tuples(session, statement)]
        if not ids:
            return
        yield ids[0], ids[-1]
        after = ids[-1]


def _run_parallel(
    engine: Engine,
    summary: RebuildSummary,
    *,
    batch_size: int,
    workers: int,
    on_batch: Callable[[int, int], Any] | None,
) -> RebuildSummary:
    """Batches go to ``workers`` processes, each committing its own; the checkpoint moves over the batches
    done without a gap before them, in a transaction of its own. A batch committed whose checkpoint was
    not is scored again on resume, which changes nothing (its inputs' digests match)."""
    today = business_date()
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # no connection of ours may be shared with the forked workers
    context = multiprocessing.get_context("fork")
    in_flight: deque[tuple[str, Future[tuple[int, int]]]] = deque()

    def settle(block: bool) -> None:
        while in_flight and (block or in_flight[0][1].done()):
            last, future = in_flight.popleft()
            seen, changed = future.result()
            with Session(engine, expire_on_commit=False) as session:
                run = session.get(ScoreRebuild, summary.run_id)
                assert run is not None
                scoring_service.checkpoint_rebuild(session, run, last, seen, changed)
                session.commit()
            summary.processed += seen
            summary.changed += changed
            if on_batch is not None:
                on_batch(seen, changed)
            block = False

    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(url,)) as pool:
        for first, last in _id_ranges(engine, summary.resumed_after, batch_size):
            in_flight.append((last, pool.submit(_rescore_range, first, last, today)))
            settle(block=len(in_flight) > 2 * workers)
        while in_flight:
            settle(block=True)
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(ScoreRebuild, summary.run_id)
        assert run is not None
        scoring_service.finish_rebuild(session, run)
        session.commit()
    return summary
