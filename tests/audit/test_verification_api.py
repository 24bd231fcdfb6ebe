"""``/v1/admin/audit-verifications``: auditors (and operators) ask for a walk of the audit log, the worker
walks it (``app.audit.runs``), and they follow it to its answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, text, update
from sqlmodel import Session, col, select

from app.audit import runs, service
from app.audit import tasks as audit_tasks
from app.audit.models import AuditEntry, AuditVerificationRun
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.security import Crypto
from app.core.sms import RecordingSender
from app.signing.keyring import Keyring
from tests.audit.helpers import allow_hand_edits, new_subject_id, record_scans
from tests.core.test_errors import assert_problem
from tests.helpers import make_phone, sign_in, sign_in_with_role, table_snapshot

URL = "/v1/admin/audit-verifications"


def _connection(db: Session) -> Connection:
    """The test's own connection: the walk sees what the test wrote, and it is all rolled back after."""
    return db.connection()


def _walk(db: Session, settings: Settings, run_id: str, batch_size: int = 2000) -> None:
    db.commit()
    runs.execute(_connection(db), Keyring(Crypto(settings).cipher), run_id, batch_size=batch_size)


def _settle_others(db: Session) -> None:
    """Runs other tests committed (and left queued) are none of this test's business: done, for this
    test's transaction only."""
    db.execute(update(AuditVerificationRun).values(status=runs.DONE))
    db.commit()


def _requests(db: Session) -> list[AuditEntry]:
    """The requests in the order they were made: all on the system chain, whose seq is that order
    (PostgreSQL returns rows in any order without it, and ids made in one millisecond are unordered)."""
    statement = (
        select(AuditEntry).where(AuditEntry.action == runs.REQUEST_ACTION).order_by(col(AuditEntry.seq))
    )
    return list(db.exec(statement).all())


def test_an_auditor_asks_for_a_chain_to_be_verified_and_follows_it_to_its_answer(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings
) -> None:
    # given a subject's chain of five entries and an auditor
    subject = new_subject_id()
    record_scans(db, subject, 5)
    chain = service.chain_for(subject)
    headers = sign_in_with_role(client, sms, db, "auditor")
    before = len(_requests(db))

    # when the auditor asks for that chain to be verified
    asked = client.post(URL, json={"chain": chain}, headers=headers)

    # then the walk is queued for the worker, and the request is in the audit log
    assert asked.status_code == 202, asked.text
    run = asked.json()
    assert (run["object"], run["status"], run["chain"], run["requested_by_type"]) == (
        "audit_verification",
        "queued",
        chain,
        "auditor",
    )
    assert (run["ok"], run["entries_checked"], run["problems"]) == (None, 0, [])
    db.commit()
    recorded = _requests(db)
    assert len(recorded) == before + 1
    assert recorded[-1].chain == "system" and recorded[-1].details == {"run_id": run["id"], "chain": chain}

    # and when the worker has walked it, two entries a batch, the answer: intact, every entry walked
    _walk(db, settings, run["id"], batch_size=2)
    done = client.get(f"{URL}/{run['id']}", headers=headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["ok"], body["chains"], body["entries_total"], body["entries_checked"]) == (
        "done",
        True,
        1,
        5,
        5,
    )
    assert (body["problems_total"], body["problems"]) == (0, [])
    assert body["finished_at"] is not None
    # and the list of walks shows it so (the suite's other tests list theirs in the same database)
    listed = client.get(URL, params={"limit": 100}, headers=headers).json()["data"]
    assert [(item["status"], item["ok"]) for item in listed if item["id"] == run["id"]] == [("done", True)]


def test_an_entry_edited_by_hand_is_named_without_its_contents(
    client: TestClient, sms: RecordingSender, db: Session, settings: Settings
) -> None:
    # given a chain whose middle entry someone with database access rewrote
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)
    allow_hand_edits(db)
    db.execute(
        text("UPDATE audit_entries SET purpose = 'debt collection' WHERE id = :id"), {"id": entries[1].id}
    )
    headers = sign_in_with_role(client, sms, db, "operator")

    # when an operator has it verified
    run = client.post(URL, json={"chain": chain}, headers=headers).json()
    _walk(db, settings, run["id"])
    response = client.get(f"{URL}/{run['id']}", headers=headers)

    # then the entry is named, and the answer carries no entry's contents
    body = response.json()
    assert (body["status"], body["ok"], body["problems_total"]) == ("done", False, 1)
    assert [(p["kind"], p["chain"], p["seq"], p["entry_id"]) for p in body["problems"]] == [
        ("altered", chain, 2, entries[1].id)
    ]
    assert "debt collection" not in response.text


def test_asking_again_while_a_walk_is_pending_answers_that_walk(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # given an auditor whose walk of a chain is queued
    headers = sign_in_with_role(client, sms, db, "auditor")
    chain = service.chain_for(new_subject_id())
    first = client.post(URL, json={"chain": chain}, headers=headers).json()
    db.commit()
    recorded = len(_requests(db))

    # when they ask again (an impatient second click)
    again = client.post(URL, json={"chain": chain}, headers=headers)

    # then the same walk answers, and nothing more is queued or recorded
    assert again.status_code == 202
    assert again.json()["id"] == first["id"]
    db.commit()
    assert len(_requests(db)) == recorded
    count = db.exec(
        select(func.count()).select_from(AuditVerificationRun).where(AuditVerificationRun.chain == chain)
    )
    assert count.one() == 1


def test_a_resident_may_neither_ask_nor_read(client: TestClient, sms: RecordingSender, db: Session) -> None:
    headers = sign_in(client, sms, make_phone())["headers"]
    auditor = sign_in_with_role(client, sms, db, "auditor")
    run = client.post(URL, json={}, headers=auditor).json()
    before = table_snapshot(db)

    asked = client.post(URL, json={}, headers=headers)
    listed = client.get(URL, headers=headers)
    read = client.get(f"{URL}/{run['id']}", headers=headers)

    for response in (asked, listed, read):
        assert_problem(response, 403, "role_required")
    assert table_snapshot(db) == before


def test_an_overlong_chain_name_is_a_problem_naming_the_field(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    headers = sign_in_with_role(client, sms, db, "auditor")
    before = table_snapshot(db)

    response = client.post(URL, json={"chain": "x" * 65}, headers=headers)

    assert response.status_code == 422
    assert response.json()["param"] == "chain"
    assert table_snapshot(db) == before


def test_an_unknown_walk_is_not_found(client: TestClient, sms: RecordingSender, db: Session) -> None:
    headers = sign_in_with_role(client, sms, db, "auditor")

    response = client.get(f"{URL}/avr_doesnotexist", headers=headers)

    assert_problem(response, 404, "audit_verification_not_found")


def _run(db: Session, **values: Any) -> str:
    run = AuditVerificationRun(requested_by_type="auditor", requested_by_id="usr_x", **values)
    db.add(run)
    db.commit()
    return run.id


def test_the_worker_takes_the_oldest_waiting_walk_and_one_whose_worker_died(db: Session) -> None:
    # given, besides runs of other tests (settled), a walk running with a live heartbeat, one whose worker
    # stopped beating six minutes ago, and two queued
    _settle_others(db)
    now = utcnow()
    alive = _run(db, status=runs.RUNNING, created_at=now - timedelta(hours=2), heartbeat_at=now)
    dead = _run(
        db, status=runs.RUNNING, created_at=now - timedelta(hours=1), heartbeat_at=now - timedelta(minutes=6)
    )
    older = _run(db, created_at=now - timedelta(minutes=2))
    newer = _run(db, created_at=now - timedelta(minutes=1))

    # when workers claim walks one after another, then once more with nothing left
    claimed = [runs.claim_next(_connection(db)) for _ in range(4)]

    # then the dead one first (asked for earliest), then the queued in order; never the live one
    assert claimed == [dead, older, newer, None]
    statuses = dict(db.exec(select(AuditVerificationRun.id, AuditVerificationRun.status)).all())
    assert {run_id: statuses[run_id] for run_id in (alive, dead, older, newer)} == dict.fromkeys(
        (alive, dead, older, newer), runs.RUNNING
    )


def test_the_worker_walks_a_requested_run_on_a_thread_and_the_daily_walk_once_a_day(
    committed_engine: Any, settings: Settings
) -> None:
    # given the daily schedule, on a day when nobody asked for a whole-log walk yet
    with Session(committed_engine) as session:
        session.execute(
            update(AuditVerificationRun)
            .where(col(AuditVerificationRun.status) != runs.DONE)
            .values(status=runs.DONE)
        )
        session.execute(update(AuditVerificationRun).values(created_at=utcnow() - timedelta(days=2)))
        session.commit()
    now = utcnow()

    # when the worker's jobs run: the daily request, then the walk it queued, then the daily job again
    queued = audit_tasks.request_daily(committed_engine, now)
    started = audit_tasks.verify_requested(committed_engine, now)
    audit_tasks.wait_for_walk()
    again = audit_tasks.request_daily(committed_engine, now + timedelta(hours=23))

    # then one walk of the whole log was asked for by the system and walked to its end; none more that day
    assert queued is not None and started == queued and again is None
    with Session(committed_engine) as session:
        run = session.get(AuditVerificationRun, queued)
        assert run is not None
        assert (run.chain, run.requested_by_type, run.status) == (None, "system", runs.DONE)
        assert run.entries_checked == run.entries_total
    # and the next day's is asked for (settled here: the database is shared with other tests)
    tomorrow = audit_tasks.request_daily(committed_engine, now + timedelta(days=1, minutes=1))
    assert tomorrow is not None
    with Session(committed_engine) as session:
        session.execute(
            update(AuditVerificationRun)
            .where(col(AuditVerificationRun.id) == tomorrow)
            .values(status=runs.DONE)
        )
        session.commit()
