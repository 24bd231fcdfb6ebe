"""The score rebuild: rescore every subject with the active model, in batches, resumably.

Kept apart from the other commands so that ``xinyi scores rebuild`` imports only what it needs: a rebuild
is timed including its start-up.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from app.core.bulk import fetch_tuples, few_collections
from app.core.clock import business_date, utcnow
from app.scoring import rebuild_batch
from app.scoring.models import ScoreRebuild
from app.scoring.scoring_model import active_model
from app.subjects.models import Subject


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
        run = _open_run(session, business_date(), restart=restart)
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
            seen, last, changed = rebuild_batch.rescore_batch(
                session, after=after, limit=batch_size, today=business_date()
            )
            if last is None:
                _finish(session, run)
                session.commit()
                return summary
            _checkpoint(session, run, last, seen, changed)
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


def _start_worker(engine: Engine) -> None:
    """In a forked worker: the parent's engine, its dialect already initialised (a new engine's first
    connection costs ~40 ms of set-up queries and Python), without the connections pooled in the parent
    (``dispose(close=False)``: they stay the parent's, untouched)."""
    global _worker_engine
    engine.dispose(close=False)
    _worker_engine = engine


def _rescore_range(first: str, last: str, today: date) -> tuple[int, int]:
    """In a worker process: one batch, one transaction."""
    assert _worker_engine is not None
    with few_collections(), Session(_worker_engine, expire_on_commit=False) as session:
        seen, changed = rebuild_batch.rescore_range(session, first, last, today=today)
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
                _checkpoint(session, run, last, seen, changed)
                session.commit()
            summary.processed += seen
            summary.changed += changed
            if on_batch is not None:
                on_batch(seen, changed)
            block = False

    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(engine,)
    ) as pool:
        for first, last in _id_ranges(engine, summary.resumed_after, batch_size):
            in_flight.append((last, pool.submit(_rescore_range, first, last, today)))
            settle(block=len(in_flight) > 2 * workers)
        while in_flight:
            settle(block=True)
    with Session(engine, expire_on_commit=False) as session:
        run = session.get(ScoreRebuild, summary.run_id)
        assert run is not None
        _finish(session, run)
        session.commit()
    return summary


# --- the run and its checkpoint --------------------------------------------------------------------------


def _open_run(session: Session, as_of: date, *, restart: bool = False) -> ScoreRebuild:
    """The unfinished rebuild for the active model, or a new one (always new with ``restart``)."""
    version = active_model().version
    running = (
        session.execute(
            select(ScoreRebuild)
            .where(col(ScoreRebuild.status) == "running", col(ScoreRebuild.model_version) == version)
            .order_by(col(ScoreRebuild.started_at).desc())
        )
        .scalars()
        .first()
    )
    if running is not None and not restart:
        return running
    if running is not None:
        running.status = "abandoned"
        running.updated_at = utcnow()
        session.add(running)
    run = ScoreRebuild(model_version=version, as_of=as_of)
    session.add(run)
    session.flush()
    return run


def _checkpoint(
    session: Session, run: ScoreRebuild, last_subject_id: str, processed: int, changed: int
) -> None:
    run.last_subject_id = last_subject_id
    run.processed += processed
    run.changed += changed
    run.updated_at = utcnow()
    session.add(run)
    session.flush()


def _finish(session: Session, run: ScoreRebuild) -> None:
    run.status = "completed"
    run.finished_at = run.updated_at = utcnow()
    session.add(run)
    session.flush()
