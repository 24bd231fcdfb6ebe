"""Credit repair (信用修复): after the minimum publicity, with proof and a signed commitment; free."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlmodel import SQLModel, select

from app.audit.models import AuditEntry
from app.cases.deadlines import add_working_days
from app.core.clock import utcnow
from app.records import service as records_service
from app.records.catalogue import add_months
from app.repairs import commitment, schemas
from app.repairs import service as repairs_service
from app.repairs.models import RepairApplication
from app.scenarios import service as scenarios_service
from app.scenarios.catalog import load_catalog
from tests.clock import TODAY
from tests.helpers import table_snapshot
from tests.rights.helpers import a_penalty, evidence_id, object_to, record_now, score_of


def _apply(client, who, record_id, proof, **overrides):
    body = {
        "record_id": record_id,
        "correction_statement": "已足额缴纳罚款并完成整改。",
        "evidence_ids": proof,
        "commitment": {"version": commitment.CURRENT_VERSION, "signed_name": "张三", "accepted": True},
        **overrides,
    }
    return client.post(
        "/v1/me/repairs", json=body, headers={**who["headers"], "Idempotency-Key": uuid.uuid4().hex}
    )


def _decide(client, operator, repair_id, **body):
    return client.post(
        f"/v1/admin/repairs/{repair_id}/decision",
        json=body,
        headers={**operator["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )


def test_working_days_skip_weekends_and_configured_holidays_and_count_makeup_days():
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 3) == date(2026, 12, 2)  # Mon, Tue, Wed
    assert add_working_days(date(2026, 11, 28), 3) == date(2026, 12, 2)  # received on a Saturday
    assert add_working_days(friday, 3, holidays={date(2026, 11, 30)}) == date(2026, 12, 3)
    assert add_working_days(friday, 3, makeup={date(2026, 11, 29)}) == date(2026, 12, 1)  # a 调休 Sunday


def test_repair_before_the_minimum_period_is_refused_with_the_earliest_date(client, db, provider, resident):
    decided = add_months(TODAY, -1)
    record = a_penalty(client, db, provider, resident, severity="general", decision_date=decided)
    proof = evidence_id(client, resident, "repair")
    before = table_snapshot(db)

    response = _apply(client, resident, record.id, [proof])

    assert response.status_code == 409
    earliest = add_months(decided, 3).isoformat()
    assert (response.json()["code"], response.json()["earliest_date"]) == ("repair_too_early", earliest)
    assert earliest in response.json()["detail"]
    assert table_snapshot(db) == before


def test_other_refusals_change_nothing(client, db, provider, resident, other_resident):
    record = a_penalty(client, db, provider, resident, decision_date=add_months(TODAY, -4))
    proof = evidence_id(client, resident, "repair")
    objection_proof = evidence_id(client, resident, "objection")
    before = table_snapshot(db)
    cases = [
        (other_resident, {}, 404, "record_not_found"),
        (resident, {"evidence_ids": []}, 422, "proof_required"),
        (resident, {"evidence_ids": [objection_proof]}, 422, "evidence_purpose_mismatch"),
        (
            resident,
            {"commitment": {"version": "v0", "signed_name": "张三", "accepted": True}},
            422,
            "commitment_version_outdated",
        ),
        (
            resident,
            {"commitment": {"version": "v1", "signed_name": "李四", "accepted": True}},
            422,
            "commitment_name_mismatch",
        ),
        (
            resident,
            {"commitment": {"version": "v1", "signed_name": "张三", "accepted": False}},
            422,
            "commitment_not_accepted",
        ),
    ]
    for who, overrides, status, code in cases:
        response = _apply(client, who, record.id, [proof], **overrides)
        assert (response.status_code, response.json()["code"]) == (status, code), overrides
    assert table_snapshot(db) == before


def test_a_disputed_record_waits_for_its_objection(client, db, provider, resident):
    record = a_penalty(client, db, provider, resident, decision_date=add_months(TODAY, -4))
    assert object_to(client, resident, record.id).status_code == 201
    response = _apply(client, resident, record.id, [evidence_id(client, resident, "repair")])
    assert (response.status_code, response.json()["code"]) == (409, "objection_open")


def test_approval_ends_publicity_and_scoring_and_regains_deposit_free_rental(
    client, db, provider, resident, operator, settings
):
    record = a_penalty(
        client, db, provider, resident, severity="general", decision_date=add_months(TODAY, -4)
    )
    minor = a_penalty(client, db, provider, resident, severity="minor", decision_date=add_months(TODAY, -1))
    rental = load_catalog()["deposit_free_rental"]
    assert score_of(db, resident["subject_id"]).level == "C"
    assert not scenarios_service.evaluate(
        rental, scenarios_service.subject_standing(db, resident["subject_id"])
    ).eligible
    proof = evidence_id(client, resident, "repair")

    applied = _apply(client, resident, record.id, [proof])

    assert applied.status_code == 201, applied.text
    body = applied.json()
    assert (body["status"], body["record_status"], body["overdue"]) == ("pending", "active", False)
    assert body["decision_due_on"] == repairs_service.decision_due_on(settings, utcnow()).isoformat()
    stored = db.get(RepairApplication, body["id"])
    assert stored is not None
    assert (stored.commitment_text, stored.commitment_sha256) == (
        commitment.current().text,
        commitment.current().sha256,
    )
    assert client.get("/v1/repairs/commitment").json()["sha256"] == stored.commitment_sha256
    # a second application for the same record waits for the first
    second = _apply(client, resident, record.id, [evidence_id(client, resident, "repair")])
    assert (second.status_code, second.json()["code"]) == (409, "repair_already_pending")

    decided = _decide(client, operator, body["id"], decision="approved")

    assert decided.status_code == 200, decided.text
    assert (decided.json()["score_before"], decided.json()["score_after"]) == (535, 585)
    assert (decided.json()["level_before"], decided.json()["level_after"]) == ("C", "B")
    assert decided.json()["application"]["decided_within_deadline"] is True
    assert record_now(db, record.id).status == "repaired"
    assert record_now(db, minor.id).status == "active"
    assert scenarios_service.evaluate(
        rental, scenarios_service.subject_standing(db, resident["subject_id"])
    ).eligible
    again = _decide(client, operator, body["id"], decision="rejected", reasons="重复")
    assert (again.status_code, again.json()["code"]) == (409, "repair_already_decided")


def test_rejection_needs_reasons(client, db, provider, resident, operator):
    record = a_penalty(client, db, provider, resident, decision_date=add_months(TODAY, -4))
    applied = _apply(client, resident, record.id, [evidence_id(client, resident, "repair")]).json()
    before = table_snapshot(db)
    bare = _decide(client, operator, applied["id"], decision="rejected")
    assert (bare.status_code, bare.json()["code"]) == (422, "reasons_required")
    assert table_snapshot(db) == before
    response = _decide(
        client, operator, applied["id"], decision="rejected", reasons="整改证明不完整，缺少缴款凭证。"
    )
    assert response.status_code == 200
    assert response.json()["application"]["decision_reasons"] == "整改证明不完整，缺少缴款凭证。"
    assert record_now(db, record.id).status == "active"
    assert (response.json()["score_before"], response.json()["score_after"]) == (550, 550)


def test_overdue_applications_are_listed_and_escalated_once(client, db, provider, resident, operator):
    record = a_penalty(client, db, provider, resident, decision_date=add_months(TODAY, -4))
    applied = _apply(client, resident, record.id, [evidence_id(client, resident, "repair")]).json()
    stored = db.get(RepairApplication, applied["id"])
    assert stored is not None
    stored.decision_due_on = TODAY - timedelta(days=1)
    db.add(stored)
    db.commit()
    listed = client.get("/v1/admin/repairs?overdue=true", headers=operator["headers"]).json()["data"]
    assert applied["id"] in [a["id"] for a in listed] and all(a["overdue"] for a in listed)
    first = repairs_service.sweep_pending(db, TODAY, utcnow())
    assert first.escalated >= 1
    assert repairs_service.sweep_pending(db, TODAY, utcnow()).escalated == 0
    db.commit()  # as the scheduled job does: the audit entries are written as it commits
    assert db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == resident["subject_id"], AuditEntry.action == "repair.escalated"
        )
    ).one().details == {
        "repair_id": applied["id"],
        "decision_due_on": (TODAY - timedelta(days=1)).isoformat(),
    }


def test_a_record_at_its_maximum_publicity_leaves_by_itself_and_a_pending_application_lapses(
    client, db, provider, resident
):
    decided = add_months(TODAY, -4)
    record = a_penalty(client, db, provider, resident, severity="general", decision_date=decided)
    applied = _apply(client, resident, record.id, [evidence_id(client, resident, "repair")]).json()
    end = add_months(decided, 12)
    assert record.publicity_ends_on == record.counts_until == end

    # the existing expiry (xinyi records expire, worker job records.expire) ends its publicity
    records_service.expire_due(db, end)
    assert record_now(db, record.id).status == "expired"
    outcome = repairs_service.sweep_pending(db, end, utcnow())
    assert outcome.lapsed >= 1
    assert db.get(RepairApplication, applied["id"]).status == "lapsed"


def test_repair_is_free_there_is_no_fee_anywhere_in_the_flow():
    words = ("fee", "price", "payment", "amount", "fen", "charge", "cost")
    columns = [c.name for c in SQLModel.metadata.tables["repair_applications"].columns]
    fields = [
        name
        for model in (
            schemas.RepairIn,
            schemas.SignedCommitmentIn,
            schemas.RepairDecisionIn,
            schemas.RepairOut,
            schemas.RepairDecisionOut,
        )
        for name in model.model_fields
    ]
    assert not [name for name in columns + fields if any(word in name for word in words)]
    assert "不收取任何费用" in commitment.current().text and "free of charge" in commitment.current().text
