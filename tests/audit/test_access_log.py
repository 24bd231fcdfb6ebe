"""Reading the log: a resident's own access log, and the auditors' full view."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.audit import service
from app.audit.models import AuditEntry
from app.core.principal import SYSTEM
from app.core.sms import RecordingSender
from tests.audit.helpers import OPERATOR, PARTNER, new_subject_id, record_scans
from tests.helpers import make_id_number, make_phone, sign_in


def _resident_with_identity(client: TestClient, sms: RecordingSender) -> tuple[dict[str, str], str]:
    pair = sign_in(client, sms, make_phone())
    response = client.put(
        "/v1/me/identity", json={"name": "张三", "id_number": make_id_number()}, headers=pair["headers"]
    )
    assert response.status_code == 200, response.text
    return pair["headers"], response.json()["subject_id"]


def _staff(client: TestClient, sms: RecordingSender, db: Session, role: str) -> tuple[dict[str, str], str]:
    pair = sign_in(client, sms, make_phone())
    user = db.get(User, pair["user_id"])
    assert user is not None
    user.roles = [role]
    db.add(user)
    db.flush()
    return pair["headers"], pair["user_id"]


def _count(db: Session, **where: Any) -> int:
    statement = select(func.count()).select_from(AuditEntry)
    for name, value in where.items():
        statement = statement.where(getattr(AuditEntry, name) == value)
    return int(db.execute(statement).scalar_one())


def test_a_resident_sees_who_accessed_their_data_and_nobody_elses(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # given accesses to the resident's subject by a partner, an operator and the system, and one to another
    headers, subject_id = _resident_with_identity(client, sms)
    [scan] = record_scans(db, subject_id, 1)
    review = service.record(
        db,
        actor=OPERATOR,
        subject_id=subject_id,
        action="objection.reviewed",
        purpose="objection handling",
        legal_basis="credit information regulations art. 25",
        details={"objection_id": "obj_1"},
    )
    rescore = service.record(
        db, actor=SYSTEM, subject_id=subject_id, action="score.recomputed", purpose="scoring", legal_basis="l"
    )
    record_scans(db, new_subject_id(), 1)

    # when
    response = client.get("/v1/me/access-log", headers=headers)

    # then newest first, partners named, staff not
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "object": "list",
        "has_more": False,
        "data": [
            {
                "id": rescore.id,
                "created_at": rescore.created_at.isoformat().replace("+00:00", "Z"),
                "actor_type": "system",
                "partner_id": None,
                "partner_name": None,
                "action": "score.recomputed",
                "purpose": "scoring",
                "legal_basis": "l",
            },
            {
                "id": review.id,
                "created_at": review.created_at.isoformat().replace("+00:00", "Z"),
                "actor_type": "operator",
                "partner_id": None,
                "partner_name": None,
                "action": "objection.reviewed",
                "purpose": "objection handling",
                "legal_basis": "credit information regulations art. 25",
            },
            {
                "id": scan.id,
                "created_at": scan.created_at.isoformat().replace("+00:00", "Z"),
                "actor_type": "partner",
                "partner_id": PARTNER.id,
                "partner_name": None,  # a principal made for the test, with no partner row to name it
                "action": "pass.verified",
                "purpose": "deposit-free rental",
                "legal_basis": "subject consent",
            },
        ],
    }
    assert OPERATOR.id not in response.text


def test_the_access_log_pages_with_limit_and_starting_after(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # given five entries
    headers, subject_id = _resident_with_identity(client, sms)
    newest_first = [e.id for e in reversed(record_scans(db, subject_id, 5))]

    # when read two at a time
    first = client.get("/v1/me/access-log", params={"limit": 2}, headers=headers).json()
    second = client.get(
        "/v1/me/access-log", params={"limit": 2, "starting_after": first["data"][-1]["id"]}, headers=headers
    ).json()
    third = client.get(
        "/v1/me/access-log", params={"limit": 2, "starting_after": second["data"][-1]["id"]}, headers=headers
    ).json()

    # then every entry once, in order, and the last page says so
    assert [e["id"] for e in first["data"]] == newest_first[0:2]
    assert [e["id"] for e in second["data"]] == newest_first[2:4]
    assert [e["id"] for e in third["data"]] == newest_first[4:5]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)


def test_a_resident_without_an_identity_has_an_empty_log(client: TestClient, sms: RecordingSender) -> None:
    pair = sign_in(client, sms, make_phone())

    response = client.get("/v1/me/access-log", headers=pair["headers"])

    assert response.status_code == 200
    assert response.json() == {"object": "list", "data": [], "has_more": False}


def test_reading_the_access_log_is_not_itself_logged(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    headers, subject_id = _resident_with_identity(client, sms)
    record_scans(db, subject_id, 1)
    before = _count(db)

    assert client.get("/v1/me/access-log", headers=headers).status_code == 200

    assert _count(db) == before


def test_the_access_log_needs_a_signed_in_user(client: TestClient) -> None:
    response = client.get("/v1/me/access-log")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "missing_credentials"


def test_a_bad_limit_is_a_validation_problem(client: TestClient, sms: RecordingSender) -> None:
    pair = sign_in(client, sms, make_phone())

    response = client.get("/v1/me/access-log", params={"limit": 0}, headers=pair["headers"])

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["param"]) == ("invalid_request", "limit")


def test_a_resident_may_not_read_the_full_log(client: TestClient, sms: RecordingSender, db: Session) -> None:
    # given a resident
    headers, _ = _resident_with_identity(client, sms)
    before = _count(db)

    # when they try the auditors' endpoint
    response = client.get("/v1/admin/audit-entries", headers=headers)

    # then refused, and nothing recorded
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "role_required"
    assert _count(db) == before


def test_an_auditor_reads_a_subjects_entries_and_the_read_is_recorded_on_the_system_chain(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # given a subject with three entries and an auditor
    subject_id = new_subject_id()
    entries = record_scans(db, subject_id, 3)
    record_scans(db, new_subject_id(), 1)
    headers, auditor_id = _staff(client, sms, db, "auditor")

    # when the auditor reads that subject's entries
    response = client.get(
        "/v1/admin/audit-entries", params={"subject_id": subject_id, "limit": 2}, headers=headers
    )

    # then the entries in full, newest first
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["id"] for e in body["data"]] == [entries[2].id, entries[1].id]
    assert body["has_more"] is True
    assert body["data"][0] == {
        "id": entries[2].id,
        "chain": f"subject:{subject_id}",
        "seq": 3,
        "created_at": entries[2].created_at.isoformat().replace("+00:00", "Z"),
        "actor_type": "partner",
        "actor_id": PARTNER.id,
        "subject_id": subject_id,
        "action": "pass.verified",
        "purpose": "deposit-free rental",
        "legal_basis": "subject consent",
        "details": {"verification_id": "ver_2"},
        "prev_hash": entries[1].entry_hash,
        "entry_hash": entries[2].entry_hash,
    }
    # and the read went to the system chain, naming the reviewer and the filter, not to the subject's chain
    assert _count(db, subject_id=subject_id) == 3
    review = db.exec(
        select(AuditEntry).where(AuditEntry.chain == "system").order_by(col(AuditEntry.seq).desc()).limit(1)
    ).one()
    assert (review.actor_type, review.actor_id, review.action, review.subject_id) == (
        "auditor",
        auditor_id,
        "audit.entries_listed",
        None,
    )
    assert review.details == {
        "filter": {"subject_id": subject_id, "action": None, "starting_after": None},
        "returned": 2,
    }


def test_an_operator_filters_the_log_by_action(client: TestClient, sms: RecordingSender, db: Session) -> None:
    subject_id = new_subject_id()
    [scan] = record_scans(db, subject_id, 1)
    other = service.record(
        db, actor=SYSTEM, subject_id=subject_id, action="score.recomputed", purpose="scoring", legal_basis="l"
    )
    headers, _ = _staff(client, sms, db, "operator")

    by_action = client.get(
        "/v1/admin/audit-entries",
        params={"subject_id": subject_id, "action": "pass.verified"},
        headers=headers,
    )

    assert by_action.status_code == 200, by_action.text
    assert [e["id"] for e in by_action.json()["data"]] == [scan.id]
    assert other.id not in by_action.text


def test_a_cursor_from_someone_elses_log_is_refused(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    # given a resident, and an entry about another subject
    headers, subject_id = _resident_with_identity(client, sms)
    record_scans(db, subject_id, 1)
    [foreign] = record_scans(db, new_subject_id(), 1)

    # when that entry's id is used as the cursor
    response = client.get("/v1/me/access-log", params={"starting_after": foreign.id}, headers=headers)

    # then
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["param"]) == ("invalid_cursor", "starting_after")
