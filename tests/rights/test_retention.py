"""Retention: a negative record is deleted 5 years after its conduct ended; the audit chain says so."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from app.accounts.models import User
from app.audit import verify
from app.audit.models import AuditEntry
from app.evidence.models import EvidenceFile
from app.objections.models import Objection, ObjectionEvent
from app.repairs.models import RepairApplication
from app.retention import service as retention_service
from app.retention.rules import latest_deletable_end, retention_ends_on
from app.scoring.models import ScoreHistory
from app.worker import JOBS
from tests.clock import days_ago, days_ahead
from tests.rights.helpers import a_penalty, evidence_id, object_to, record_now, score_of


def test_the_retention_end_is_five_years_after_the_conduct_and_clamps_month_ends():
    assert retention_ends_on(date(2021, 3, 15), date(2021, 4, 1)) == date(2026, 3, 15)
    assert retention_ends_on(None, date(2021, 4, 1)) == date(2026, 4, 1)
    assert retention_ends_on(date(2020, 2, 29), date(2020, 3, 1)) == date(2025, 2, 28)
    assert latest_deletable_end(date(2025, 2, 28)) == date(2020, 2, 29)
    assert latest_deletable_end(date(2026, 3, 15)) == date(2021, 3, 15)


def test_a_record_is_deleted_with_what_refers_to_it_and_the_chain_still_verifies(
    client, db, provider, resident, operator, evidence_dir
):
    record = a_penalty(
        client, db, provider, resident, decision_date=days_ago(86).isoformat(), conduct_end_date=days_ago(103).isoformat(),
        title="保留期测试-TITLE-QUUX", legal_basis="依据-BASIS-FROB",
    )  # fmt: skip
    proof = evidence_id(client, resident)
    filed = object_to(client, resident, record.id, evidence_ids=[proof], reason="理由-REASON-WIBBLE").json()
    stored = db.get(EvidenceFile, proof)
    assert stored is not None
    path = evidence_dir / stored.storage_name[:2] / stored.storage_name
    assert path.exists()
    assert "administrative_penalty.general" in [
        code
        for row in db.exec(select(ScoreHistory).where(ScoreHistory.subject_id == resident["subject_id"]))
        for code in row.top_reasons
    ]
    retention_service.delete_due(db, days_ahead(1722))  # the day before: other subjects' records may go
    assert record_now(db, record.id) is not None

    outcome = retention_service.delete_due(db, days_ahead(1723))
    db.commit()  # as the scheduled job does: the audit entries are written as it commits

    assert outcome.objections >= 1
    assert stored.storage_name in outcome.storage_names
    assert record_now(db, record.id) is None
    assert db.get(Objection, filed["id"]) is None
    assert db.exec(select(ObjectionEvent).where(ObjectionEvent.objection_id == filed["id"])).all() == []
    assert db.exec(select(EvidenceFile).where(EvidenceFile.id == proof)).first() is None
    # the score no longer knows the record, not even as a reason code in its history
    assert score_of(db, resident["subject_id"]).score == 600
    history = db.exec(select(ScoreHistory).where(ScoreHistory.subject_id == resident["subject_id"])).all()
    assert all("administrative_penalty.general" not in row.top_reasons for row in history)
    # the audit chain says a record was deleted, with its id only, and nothing in it holds the content
    entries = db.exec(select(AuditEntry).where(AuditEntry.subject_id == resident["subject_id"])).all()
    deleted = [e for e in entries if e.action == "record.deleted"]
    assert [e.details for e in deleted] == [
        {"record_id": record.id, "objections_deleted": 1, "repairs_deleted": 0}
    ]
    text = repr([(e.action, e.purpose, e.legal_basis, e.details) for e in entries])
    for secret in ("QUUX", "FROB", "WIBBLE", record.source_record_id, "administrative_penalty"):
        assert secret not in text
    result = verify.verify(db, chain=f"subject:{resident['subject_id']}")
    assert result.ok, result.problems
    # running again finds nothing
    again = retention_service.delete_due(db, days_ahead(1723))
    assert (again.records, again.objections, again.storage_names) == (0, 0, [])


def test_records_of_closed_accounts_follow_the_same_rule(client, db, provider, resident):
    record = a_penalty(client, db, provider, resident, decision_date=days_ago(86).isoformat())
    user = db.get(User, resident["id"])
    assert user is not None
    user.closed_at = datetime(2027, 1, 1, tzinfo=UTC)
    db.add(user)
    db.commit()
    retention_service.delete_due(db, days_ahead(1739))
    assert record_now(db, record.id) is not None  # closing the account does not delete early
    assert retention_service.delete_due(db, days_ahead(1740)).records >= 1
    assert record_now(db, record.id) is None


def test_positive_records_are_not_negative_information(client, db, provider, resident):
    from tests.records.helpers import post_batch

    post_batch(
        client,
        provider,
        [
            {
                "source_record_id": "HONOUR-1",
                "category": "honour",
                "id_number": resident["id_number"],
                "decision_date": days_ago(2521).isoformat(),
            }
        ],
    )
    retention_service.delete_due(db, days_ahead(1497))
    from app.records.models import CreditRecord

    assert db.exec(select(CreditRecord).where(CreditRecord.subject_id == resident["subject_id"])).all() != []


def test_repairs_go_with_their_record(client, db, provider, resident):
    from tests.rights.test_repairs import _apply

    record = a_penalty(client, db, provider, resident, decision_date=days_ago(148).isoformat())
    applied = _apply(client, resident, record.id, [evidence_id(client, resident, "repair")])
    assert applied.status_code == 201, applied.text
    outcome = retention_service.delete_due(db, days_ahead(1678))
    # At least this one: the browser tests commit repair applications of their own to the same database
    assert outcome.repairs >= 1 and db.get(RepairApplication, applied.json()["id"]) is None


def test_the_jobs_are_registered_in_the_worker():
    names = {job.name for job in JOBS}
    assert {
        "objections.escalate_overdue",
        "repairs.sweep_pending",
        "records.delete_past_retention",
        "evidence.sweep",
    } <= names
