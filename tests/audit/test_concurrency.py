"""Concurrent writers to one chain, with real commits: no gaps, no forks.

PostgreSQL only: SQLite has one write lock for the whole file, so its writers never interleave.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.accounts.models import User
from app.audit import service
from app.audit.verify import verify
from app.core.principal import Principal
from app.core.sms import RecordingSender
from tests.audit.helpers import new_subject_id
from tests.helpers import make_phone, sign_in

THREADS = 16
ENTRIES_PER_THREAD = 5


@pytest.fixture
def shared_engine(committed_engine: Engine) -> Engine:
    """Real commits on the leg's database: PostgreSQL row locks in the external leg, SQLite's single
    write lock (taken at BEGIN IMMEDIATE) in the embedded one."""
    return committed_engine


def _run_together(work: Callable[[int], None], deadline_s: float = 60.0) -> None:
    """Start ``THREADS`` workers at the same instant; re-raise the first failure. A worker still running
    at the deadline fails the test (a hang, not a slow machine: each does a few milliseconds' work)."""
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    end = time.monotonic() + deadline_s
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "workers still waiting at the deadline"
    if failures:
        raise failures[0]


def _chain_rows(engine: Engine, chain: str) -> list[tuple[int, str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT seq, actor_id, prev_hash, entry_hash FROM audit_entries WHERE chain = :c ORDER BY seq"
            ),
            {"c": chain},
        )
        return [tuple(row) for row in rows]


def test_concurrent_writers_to_one_subject_build_one_unbroken_chain(shared_engine: Engine) -> None:
    # given a subject nobody has written about yet (so the chain's head row is created in the race too)
    subject_id = new_subject_id()
    chain = service.chain_for(subject_id)

    # when 16 partners each record 5 entries about it at once, each entry its own transaction
    def write(n: int) -> None:
        actor = Principal(type="partner", id=f"ptn_CONCURRENT{n:02d}")
        for i in range(ENTRIES_PER_THREAD):
            with Session(shared_engine) as session:
                service.record(
                    session,
                    actor=actor,
                    subject_id=subject_id,
                    action="pass.verified",
                    purpose="deposit-free rental",
                    legal_basis="subject consent",
                    details={"n": i},
                )
                session.commit()

    _run_together(write)

    # then one chain 1..N: every entry links to the one before it, none shares a predecessor
    rows = _chain_rows(shared_engine, chain)
    total = THREADS * ENTRIES_PER_THREAD
    assert [seq for seq, *_ in rows] == list(range(1, total + 1))
    assert [prev for _, _, prev, _ in rows] == [service.GENESIS_HASH] + [h for *_, h in rows[:-1]]
    assert sorted({actor for _, actor, _, _ in rows}) == [f"ptn_CONCURRENT{n:02d}" for n in range(THREADS)]
    with Session(shared_engine) as session:
        result = verify(session, chain=chain)
    assert (result.ok, result.chains, result.entries) == (True, 1, total)


async def _set_worker_threads(count: int) -> None:
    to_thread.current_default_thread_limiter().total_tokens = count


@pytest.mark.parametrize("worker_threads", [40, 4], ids=["anyio-default", "fewer-threads-than-requests"])
def test_parallel_audit_reviews_over_http_chain_on_the_system_chain(
    shared_engine: Engine, live: TestClient, sms: RecordingSender, worker_threads: int
) -> None:
    if worker_threads < THREADS and shared_engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite's one write lock is taken at BEGIN and held across the request's thread hops: with "
            "fewer threads than concurrent writers, the waiting ones time out (the embedded default is "
            "for one machine's demo)"
        )
    # every review takes the system chain's head as its request commits, never while it waits for a
    # worker thread: so even with fewer threads than requests, none waits forever
    live.portal.call(_set_worker_threads, worker_threads)  # type: ignore[union-attr]

    # given an auditor
    pair = sign_in(live, sms, make_phone())
    with Session(shared_engine) as session:
        user = session.get(User, pair["user_id"])
        assert user is not None
        user.roles = ["auditor"]
        session.add(user)
        session.commit()
    marker = new_subject_id()  # filtering on it tells this test's review entries apart

    # when 16 requests read the log at once, each recording its read on the shared system chain
    statuses: list[int] = []

    def review(_: int) -> None:
        response = live.get("/v1/admin/audit-entries", params={"subject_id": marker}, headers=pair["headers"])
        statuses.append(response.status_code)

    _run_together(review)

    # then every request succeeded and the system chain took all 16 without a gap or a fork
    assert statuses == [200] * THREADS
    with shared_engine.connect() as conn:
        seqs = conn.execute(
            text(
                "SELECT seq FROM audit_entries WHERE chain = 'system' AND action = :action "
                "AND actor_id = :actor ORDER BY seq"
            ),
            {"action": service.REVIEW_ACTION, "actor": pair["user_id"]},
        ).scalars()
        assert len(set(seqs)) == THREADS
    with Session(shared_engine) as session:
        result = verify(session, chain=service.SYSTEM_CHAIN)
    assert result.ok, result.problems
