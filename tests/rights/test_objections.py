"""Objections (异议): filed on one's own record, disputed at once, routed, answered within 20 days."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.objections import service as objections_service
from app.objections.models import Objection, ObjectionEvent
from app.scoring.engine import RecordInput, ScoringInputs, compute
from app.scoring.scoring_model import active_model
from tests.clock import days_ago, days_ahead
from tests.helpers import table_snapshot
from tests.rights.helpers import a_penalty, answer, evidence_id, object_to, record_now, score_of


def test_the_model_declares_how_a_disputed_record_counts_and_the_engine_follows_it():
    model = active_model()
    record = RecordInput("rec_1", "administrative_penalty.general", "active")
    disputed = RecordInput("rec_1", "administrative_penalty.general", "disputed")
    today = days_ahead(1)
    # v1: a disputed record counts in full until the objection is answered
    assert model.disputed_record_weight == 1.0
    assert (
        compute(model, ScoringInputs((disputed,)), today).score
        == compute(model, ScoringInputs((record,)), today).score
        == 550
    )
    # a model that halves disputed records: the engine applies exactly that weight
    halved = model.model_copy(update={"disputed_record_weight": 0.5})
    assert compute(halved, ScoringInputs((disputed,)), today).score == 575
    ignored = model.model_copy(update={"disputed_record_weight": 0.0})
    assert compute(ignored, ScoringInputs((disputed,)), today).score == 600


def test_filing_marks_the_record_disputed_at_once_for_every_reader_and_routes_it(
    client, db, provider, resident, operator
):
    record = a_penalty(client, db, provider, resident)
    before = score_of(db, resident["subject_id"]).score
    evidence = evidence_id(client, resident)

    response = object_to(client, resident, record.id, evidence_ids=[evidence])

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["record_status"], body["overdue"]) == ("open", "disputed", False)
    assert [e["id"] for e in body["evidence"]] == [evidence]
    filed = objections_service.get(db, body["id"])
    assert filed.answer_due_at - filed.filed_at == timedelta(days=20)
    # the subject sees it disputed
    mine = client.get("/v1/me/records", headers=resident["headers"]).json()["data"]
    assert [(r["id"], r["status"]) for r in mine] == [(record.id, "disputed")]
    # the source department sees it disputed in its list of objections, with its own record id
    listed = client.get("/v1/partner/objections", headers=provider["headers"]).json()["data"]
    assert [(o["id"], o["source_record_id"], o["status"]) for o in listed] == [
        (body["id"], record.source_record_id, "open")
    ]
    # and the report shows it disputed too
    report = client.get("/v1/me/report", headers=resident["headers"]).json()
    assert [(r["id"], r["status"], r["open_objection_id"]) for r in report["records"]] == [
        (record.id, "disputed", body["id"])
    ]
    # v1 counts a disputed record in full: the score has not moved
    assert score_of(db, resident["subject_id"]).score == before == 550
    # events for the source department and the operators, ids only
    events = db.exec(select(ObjectionEvent).where(ObjectionEvent.objection_id == body["id"])).all()
    assert sorted((e.type, e.recipient) for e in events) == [
        ("objection.filed", "operators"),
        ("objection.filed", provider["id"]),
    ]
    assert set(events[0].payload) == {"objection_id", "record_id", "answer_due_at"}
    feed = client.get("/v1/partner/objection-events", headers=provider["headers"]).json()["data"]
    assert [(e["type"], e["objection_id"]) for e in feed] == [("objection.filed", body["id"])]
    # the operators' queue has it
    queue = client.get("/v1/admin/objections?status=open", headers=operator["headers"]).json()["data"]
    assert body["id"] in [o["id"] for o in queue]


def test_another_data_provider_sees_nothing_of_it(client, db, provider, resident):
    from tests.records.helpers import make_partner_key

    record = a_penalty(client, db, provider, resident)
    assert object_to(client, resident, record.id).status_code == 201
    stranger = make_partner_key(db, scopes=("records:write", "objections:read"), name="税务局")
    assert client.get("/v1/partner/objections", headers=stranger["headers"]).json()["data"] == []
    assert client.get("/v1/partner/objection-events", headers=stranger["headers"]).json()["data"] == []


def test_objecting_to_someone_elses_record_is_refused_and_changes_nothing(
    client, db, provider, resident, other_resident
):
    record = a_penalty(client, db, provider, resident)
    before = table_snapshot(db)

    response = object_to(client, other_resident, record.id)

    assert response.status_code == 404
    assert (response.json()["code"], response.json()["param"]) == ("record_not_found", "record_id")
    assert table_snapshot(db) == before


def test_a_second_open_objection_on_the_same_record_is_refused_and_changes_nothing(
    client, db, provider, resident
):
    record = a_penalty(client, db, provider, resident)
    assert object_to(client, resident, record.id).status_code == 201
    evidence = evidence_id(client, resident)
    before = table_snapshot(db)

    response = object_to(client, resident, record.id, evidence_ids=[evidence])

    assert response.status_code == 409
    assert response.json()["code"] == "objection_already_open"
    assert table_snapshot(db) == before


def test_evidence_of_someone_else_cannot_be_attached(client, db, provider, resident, other_resident):
    record = a_penalty(client, db, provider, resident)
    theirs = evidence_id(client, other_resident)
    before = table_snapshot(db)
    response = object_to(client, resident, record.id, evidence_ids=[theirs])
    assert (response.status_code, response.json()["code"]) == (404, "evidence_not_found")
    assert table_snapshot(db) == before


def test_upheld_and_withdrawn_the_score_rises_in_the_same_request(client, db, provider, resident, operator):
    record = a_penalty(client, db, provider, resident)
    filed = object_to(client, resident, record.id).json()

    response = answer(
        client,
        operator,
        filed["id"],
        decision="upheld",
        resolution="withdrawn",
        answer="经核实，该处罚已撤销。",
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["score_before"], body["score_after"]) == (550, 600)
    assert (body["objection"]["status"], body["objection"]["record_status"]) == ("upheld", "withdrawn")
    assert record_now(db, record.id).status == "withdrawn"
    assert client.get("/v1/me/score", headers=resident["headers"]).json()["score"] == 600
    mine = client.get(f"/v1/me/objections/{filed['id']}", headers=resident["headers"]).json()
    assert (mine["answer"], mine["resolution"]) == ("经核实，该处罚已撤销。", "withdrawn")
    # the department hears the outcome
    events = db.exec(select(ObjectionEvent).where(ObjectionEvent.type == "objection.answered")).all()
    assert {e.recipient for e in events if e.objection_id == filed["id"]} == {provider["id"], "operators"}
    # answering twice is refused
    again = answer(client, operator, filed["id"], decision="rejected", answer="重复答复测试")
    assert (again.status_code, again.json()["code"]) == (409, "objection_already_answered")


def test_upheld_and_corrected_the_record_is_recomputed_and_counts_again(
    client, db, provider, resident, operator
):
    record = a_penalty(
        client, db, provider, resident, severity="general", decision_date=days_ago(86).isoformat()
    )
    filed = object_to(client, resident, record.id).json()

    response = answer(
        client,
        operator,
        filed["id"],
        decision="upheld",
        resolution="corrected",
        answer="情节认定有误，更正为轻微。",
        corrections={"severity": "minor"},
    )

    assert response.status_code == 200, response.text
    assert (response.json()["score_before"], response.json()["score_after"]) == (550, 585)
    assert response.json()["objection"]["corrected_fields"] == ["severity"]
    corrected = record_now(db, record.id)
    assert (corrected.status, corrected.severity) == ("active", "minor")
    # minor: 0 to 3 months of publicity from the decision
    assert (corrected.publicity_min_ends_on, corrected.publicity_ends_on) == (
        days_ago(86),
        days_ahead(5),
    )
    entry = db.exec(
        select(AuditEntry).where(
            AuditEntry.action == "record.corrected", AuditEntry.subject_id == resident["subject_id"]
        )
    ).one()
    assert entry.details == {"id": record.id, "fields": ["severity"], "status": "active"}


def test_bad_corrections_are_refused_and_change_nothing(client, db, provider, resident, operator):
    record = a_penalty(client, db, provider, resident)
    filed = object_to(client, resident, record.id).json()
    before = table_snapshot(db)
    cases = [
        ({"decision": "upheld", "answer": "成立但未说明"}, "resolution_required"),
        ({"decision": "upheld", "resolution": "corrected", "answer": "更正但无内容"}, "corrections_required"),
        (
            {
                "decision": "upheld",
                "resolution": "corrected",
                "answer": "更正决定日期",
                "corrections": {"decision_date": days_ahead(26334).isoformat()},
            },
            "date_in_future",
        ),
        (
            {
                "decision": "upheld",
                "resolution": "corrected",
                "answer": "更正但无变化",
                "corrections": {"severity": "general"},
            },
            "correction_changes_nothing",
        ),
        (
            {"decision": "rejected", "answer": "驳回但撤销", "resolution": "withdrawn"},
            "resolution_not_applicable",
        ),
    ]
    for body, code in cases:
        response = answer(client, operator, filed["id"], **body)
        assert (response.status_code, response.json()["code"]) == (422, code), body
    assert table_snapshot(db) == before


def test_rejected_the_record_counts_as_before_with_the_reasons(client, db, provider, resident, operator):
    record = a_penalty(client, db, provider, resident)
    filed = object_to(client, resident, record.id).json()
    response = answer(client, operator, filed["id"], decision="rejected", answer="经核实，处罚决定合法有效。")
    assert response.status_code == 200
    assert (response.json()["score_before"], response.json()["score_after"]) == (550, 550)
    assert record_now(db, record.id).status == "active"
    assert response.json()["objection"]["answer"] == "经核实，处罚决定合法有效。"
    # a new objection may be filed once the first was answered
    assert object_to(client, resident, record.id).status_code == 201


def test_only_operators_answer(client, db, provider, resident):
    record = a_penalty(client, db, provider, resident)
    filed = object_to(client, resident, record.id).json()
    response = answer(client, resident, filed["id"], decision="rejected", answer="我自己驳回")
    assert (response.status_code, response.json()["code"]) == (403, "role_required")


def test_overdue_objections_are_listed_and_escalated_once_a_day(client, db, provider, resident, operator):
    record = a_penalty(client, db, provider, resident)
    filed = object_to(client, resident, record.id).json()
    objection = db.get(Objection, filed["id"])
    assert objection is not None
    now = utcnow()
    objection.answer_due_at = now - timedelta(hours=1)
    db.add(objection)
    db.commit()

    overdue = client.get("/v1/admin/objections?overdue=true", headers=operator["headers"]).json()["data"]
    assert filed["id"] in [o["id"] for o in overdue]
    assert all(o["overdue"] for o in overdue)

    assert objections_service.escalate_overdue(db, now) >= 1
    assert objections_service.escalate_overdue(db, now + timedelta(hours=2)) == 0  # not twice in a day
    assert objections_service.escalate_overdue(db, now + timedelta(days=1)) >= 1
    db.commit()  # as the scheduled job does: the audit entries are written as it commits
    db.refresh(objection)
    assert objection.escalations == 2
    types = [
        e.type
        for e in db.exec(select(ObjectionEvent).where(ObjectionEvent.objection_id == filed["id"])).all()
    ]
    assert types.count("objection.overdue") == 4  # twice, each to the source and the operators
    logged = db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == resident["subject_id"], AuditEntry.action == "objection.escalated"
        )
    ).all()
    assert len(logged) == 2


def test_the_reason_never_reaches_the_audit_log(client, db, provider, resident, operator):
    record = a_penalty(client, db, provider, resident)
    filed = object_to(client, resident, record.id, reason="秘密理由-XYZZY-不应入日志").json()
    answer(client, operator, filed["id"], decision="rejected", answer="答复-PLUGH-不应入日志")
    entries = db.exec(select(AuditEntry).where(AuditEntry.subject_id == resident["subject_id"])).all()
    text = repr([(e.details, e.purpose, e.legal_basis) for e in entries])
    assert "XYZZY" not in text and "PLUGH" not in text


def test_an_enterprise_admin_objects_for_the_enterprise_and_others_cannot(
    client, db, provider, resident, other_resident
):
    from tests.helpers import make_uscc
    from tests.records.helpers import post_batch, uid

    uscc = make_uscc()
    created = client.post(
        "/v1/enterprises", json={"name": "测试小微企业", "uscc": uscc}, headers=resident["headers"]
    )
    assert created.status_code == 201, created.text
    row = {
        "source_record_id": uid("ent"),
        "category": "abnormal_operation",
        "uscc": uscc,
        "severity": "general",
        "decision_date": days_ago(56).isoformat(),
    }
    assert post_batch(client, provider, [row]).json()["errors"] == []
    report = client.get(f"/v1/me/report?enterprise_id={created.json()['id']}", headers=resident["headers"])
    (record_id,) = [r["id"] for r in report.json()["records"]]

    refused = object_to(client, other_resident, record_id)
    assert (refused.status_code, refused.json()["code"]) == (404, "record_not_found")
    filed = object_to(client, resident, record_id)
    assert filed.status_code == 201, filed.text
    assert filed.json()["subject_id"] == created.json()["subject_id"]
    listed = client.get("/v1/me/objections", headers=resident["headers"]).json()["data"]
    assert [o["id"] for o in listed] == [filed.json()["id"]]
    assert client.get("/v1/me/objections", headers=other_resident["headers"]).json()["data"] == []


def test_the_source_department_gets_a_signed_webhook_for_each_step(client, db, resident, operator):
    from app.webhooks.models import WebhookDelivery, WebhookEvent
    from tests.records.helpers import make_partner_key

    department = make_partner_key(db, scopes=("records:write", "objections:read", "webhooks:manage"))
    endpoint = client.post(
        "/v1/partner/webhook-endpoints",
        json={"url": "https://dept.example/hooks", "event_types": ["objection.filed", "objection.answered"]},
        headers=department["headers"],
    )
    assert endpoint.status_code == 201, endpoint.text
    record = a_penalty(client, db, department, resident)

    filed = object_to(client, resident, record.id, reason="这不是我的违法行为，处罚对象错误").json()
    answered = answer(
        client,
        operator,
        filed["id"],
        decision="upheld",
        resolution="withdrawn",
        answer="处罚对象登记错误，予以撤销",
    )
    assert answered.status_code == 200, answered.text

    events = db.exec(
        select(WebhookEvent).where(WebhookEvent.partner_id == department["id"]).order_by(WebhookEvent.id)
    ).all()
    assert [e.type for e in events] == ["objection.filed", "objection.answered"]
    bodies = [json.loads(e.body)["data"] for e in events]
    assert [(b["objection_id"], b["record_id"]) for b in bodies] == [(filed["id"], record.id)] * 2
    # ids and codes only: neither the subject's reason nor the answer leaves the platform this way
    assert all("处罚对象" not in e.body and "违法行为" not in e.body for e in events)
    deliveries = db.exec(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.json()["id"])
    ).all()
    assert sorted(d.event_type for d in deliveries) == ["objection.answered", "objection.filed"]
