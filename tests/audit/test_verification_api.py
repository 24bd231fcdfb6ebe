"""``GET /v1/admin/audit-verification``: auditors (and operators) check the chains from the console."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlmodel import Session, select

from app.audit import service
from app.audit.models import AuditEntry
from app.core.sms import RecordingSender
from tests.audit.helpers import allow_hand_edits, new_subject_id, record_scans
from tests.helpers import make_phone, sign_in, sign_in_with_role


def _count(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(AuditEntry)).one())


def test_an_auditor_sees_an_intact_chain_verify(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # given a subject's chain of three entries and an auditor
    subject = new_subject_id()
    record_scans(db, subject, 3)
    headers = sign_in_with_role(client, sms, db, "auditor")

    # when the auditor verifies that chain
    response = client.get(
        "/v1/admin/audit-verification", params={"chain": service.chain_for(subject)}, headers=headers
    )

    # then it is intact, every entry walked
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ok"], body["chains"], body["entries"], body["problems"]) == (True, 1, 3, [])


def test_an_entry_edited_by_hand_is_named(client: TestClient, sms: RecordingSender, db: Session) -> None:
    # given a chain whose middle entry someone with database access rewrote
    subject = new_subject_id()
    entries = record_scans(db, subject, 3)
    chain = service.chain_for(subject)
    allow_hand_edits(db)
    db.execute(
        text("UPDATE audit_entries SET purpose = 'debt collection' WHERE id = :id"), {"id": entries[1].id}
    )
    headers = sign_in_with_role(client, sms, db, "operator")

    # when an operator verifies it
    response = client.get("/v1/admin/audit-verification", params={"chain": chain}, headers=headers)

    # then the entry is named, and the answer carries no entry's contents
    body = response.json()
    assert body["ok"] is False
    assert [(p["kind"], p["chain"], p["seq"], p["entry_id"]) for p in body["problems"]] == [
        ("altered", chain, 2, entries[1].id)
    ]
    assert "debt collection" not in response.text


def test_a_resident_may_not_verify(client: TestClient, sms: RecordingSender, db: Session) -> None:
    headers = sign_in(client, sms, make_phone())["headers"]
    before = _count(db)

    response = client.get("/v1/admin/audit-verification", headers=headers)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "role_required"
    assert _count(db) == before


def test_an_overlong_chain_name_is_a_problem_naming_the_field(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    headers = sign_in_with_role(client, sms, db, "auditor")

    response = client.get("/v1/admin/audit-verification", params={"chain": "x" * 65}, headers=headers)

    assert response.status_code == 422
    assert response.json()["param"] == "chain"
