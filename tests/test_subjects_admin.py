from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.core.sms import RecordingSender
from tests.core.test_errors import assert_problem
from tests.enterprises.test_enterprises import verified_resident
from tests.helpers import make_phone, sign_in, table_snapshot


def make_operator(client: TestClient, sms: RecordingSender, db: Session, phone: str | None = None) -> dict:
    pair = sign_in(client, sms, phone or make_phone())
    user = db.get(User, pair["user_id"])
    assert user is not None
    user.roles = ["operator"]
    db.add(user)
    db.flush()
    return pair


def test_an_operator_read_is_audited_on_the_subjects_chain(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    resident = verified_resident(client, sms)
    operator = make_operator(client, sms, db)
    response = client.get(
        f"/v1/admin/subjects/{resident['subject_id']}",
        params={"purpose": "resident called the hotline"},
        headers=operator["headers"],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id_number"].count("*") == 8
    entries = db.exec(select(AuditEntry).where(AuditEntry.subject_id == resident["subject_id"])).all()
    assert [(e.actor_type, e.actor_id, e.action, e.purpose) for e in entries] == [
        ("operator", operator["user_id"], "subject.read", "resident called the hotline")
    ]


def test_a_resident_cannot_read_subjects_and_nothing_is_logged(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    resident = verified_resident(client, sms)
    nosy = verified_resident(client, sms)
    before = table_snapshot(db)
    response = client.get(
        f"/v1/admin/subjects/{resident['subject_id']}",
        params={"purpose": "curiosity"},
        headers=nosy["headers"],
    )
    assert_problem(response, 403, "role_required")
    assert table_snapshot(db) == before


def test_a_read_without_purpose_is_refused(client: TestClient, sms: RecordingSender, db: Session) -> None:
    resident = verified_resident(client, sms)
    operator = make_operator(client, sms, db)
    before = table_snapshot(db)
    response = client.get(f"/v1/admin/subjects/{resident['subject_id']}", headers=operator["headers"])
    assert_problem(response, 422, "invalid_request", "purpose")
    assert table_snapshot(db) == before
