"""The scheduled worker: runs each registered job when due, survives a failing one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app.core.security import Crypto
from app.records.models import CreditRecord
from app.worker import JOBS, Job, Worker
from tests.clock import PINNED, days_ago

T0 = PINNED


def test_a_job_runs_when_due_and_not_before():
    calls: list[datetime] = []
    worker = Worker(
        engine=None, jobs=[Job("tick", timedelta(hours=1), lambda _engine, now: calls.append(now))]
    )  # type: ignore[arg-type]
    assert worker.run_once(T0) == ["tick"]
    assert worker.run_once(T0 + timedelta(minutes=59)) == []
    assert worker.run_once(T0 + timedelta(hours=1)) == ["tick"]
    assert calls == [T0, T0 + timedelta(hours=1)]


def test_a_failing_job_does_not_stop_the_others():
    ran: list[str] = []

    def broken(_engine: Any, _now: datetime) -> None:
        raise RuntimeError("database went away")

    jobs = [
        Job("broken", timedelta(hours=1), broken),
        Job("fine", timedelta(hours=1), lambda e, n: ran.append("fine")),
    ]
    worker = Worker(engine=None, jobs=jobs)  # type: ignore[arg-type]
    assert worker.run_once(T0) == ["broken", "fine"]
    assert ran == ["fine"]
    assert worker.run_once(T0 + timedelta(minutes=5)) == []  # retried on its next slot, not in a tight loop


def test_the_registered_expiry_job_expires_records(committed_engine, settings):
    from app.records import service
    from app.records.tasks import CLI_ACTOR
    from app.records.validation import RowValidator
    from tests.records.helpers import new_id_number, uid

    source = uid("src")
    with Session(committed_engine, expire_on_commit=False) as session:
        batch = service.start_batch(session, source=source, channel="file", actor=CLI_ACTOR)
        row = {"source_record_id": "W-1", "category": "administrative_penalty", "id_number": new_id_number(),
               "severity": "minor", "decision_date": days_ago(117).isoformat()}  # fmt: skip
        service.ingest_chunk(
            session,
            Crypto(settings),
            batch,
            CLI_ACTOR,
            [(1, row)],
            validator=RowValidator(T0.date()),
            seen=set(),
        )
        session.commit()

    expiry = [job for job in JOBS if job.name == "records.expire"]
    assert len(expiry) == 1
    # the pinned day in China: past the record's minor publicity (three months from its decision)
    assert Worker(committed_engine, jobs=expiry).run_once(T0) == ["records.expire"]

    with Session(committed_engine) as session:
        record = session.exec(
            select(CreditRecord).where(CreditRecord.source == source, CreditRecord.source_record_id == "W-1")
        ).one()
        assert record.status == "expired"
