from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.sms import RecordingSender
from app.enterprises.models import Enterprise
from tests.core.test_errors import assert_problem
from tests.helpers import make_id_number, make_phone, make_uscc, sign_in, table_snapshot


def verified_resident(client: TestClient, sms: RecordingSender, phone: str | None = None) -> dict:
    pair = sign_in(client, sms, phone or make_phone())
    response = client.put(
        "/v1/me/identity", json={"name": "陈静", "id_number": make_id_number()}, headers=pair["headers"]
    )
    assert response.status_code == 200
    pair["subject_id"] = response.json()["subject_id"]
    return pair


@pytest.fixture
def admin(client: TestClient, sms: RecordingSender) -> dict:
    return verified_resident(client, sms)


def test_a_verified_resident_registers_an_enterprise_and_becomes_admin(
    client: TestClient, admin: dict, db: Session
) -> None:
    uscc = make_uscc()
    response = client.post(
        "/v1/enterprises", json={"name": "天山小微科技", "uscc": uscc.lower()}, headers=admin["headers"]
    )
    assert response.status_code == 201
    body = response.json()
    assert body["uscc"] == uscc
    assert body["name"] == "天山小微科技"
    assert [a["user_id"] for a in body["admins"]] == [admin["user_id"]]
    assert body["subject_id"].startswith("sub_")
    mine = client.get("/v1/me/enterprises", headers=admin["headers"]).json()
    assert (mine["object"], mine["has_more"]) == ("list", False)
    assert [e["id"] for e in mine["data"]] == [body["id"]]


@pytest.mark.parametrize(
    ("uscc", "code"),
    [("91350100M000100Y44", "invalid_uscc_check_digit"), ("91350100M00010", "invalid_uscc")],
)
def test_bad_uscc_is_refused_and_nothing_changes(
    client: TestClient, admin: dict, db: Session, uscc: str, code: str
) -> None:
    before = table_snapshot(db)
    response = client.post("/v1/enterprises", json={"name": "某公司", "uscc": uscc}, headers=admin["headers"])
    assert_problem(response, 422, code, "uscc")
    assert table_snapshot(db) == before


def test_registration_needs_real_name_verification(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    unverified = sign_in(client, sms, make_phone())
    before = table_snapshot(db)
    response = client.post(
        "/v1/enterprises", json={"name": "某公司", "uscc": make_uscc()}, headers=unverified["headers"]
    )
    assert_problem(response, 403, "identity_required")
    assert table_snapshot(db) == before


def test_an_enterprise_registers_once(
    client: TestClient, sms: RecordingSender, admin: dict, db: Session
) -> None:
    uscc = make_uscc()
    client.post("/v1/enterprises", json={"name": "天山小微科技", "uscc": uscc}, headers=admin["headers"])
    other = verified_resident(client, sms)
    before = table_snapshot(db)
    response = client.post(
        "/v1/enterprises", json={"name": "冒名公司", "uscc": uscc}, headers=other["headers"]
    )
    assert_problem(response, 409, "enterprise_already_registered", "uscc")
    assert table_snapshot(db) == before


def test_an_admin_adds_another_admin_and_it_is_audited(
    client: TestClient, sms: RecordingSender, admin: dict, db: Session
) -> None:
    enterprise = client.post(
        "/v1/enterprises", json={"name": "天山小微科技", "uscc": make_uscc()}, headers=admin["headers"]
    ).json()
    phone = make_phone()
    colleague = verified_resident(client, sms, phone)
    response = client.post(
        f"/v1/enterprises/{enterprise['id']}/admins", json={"phone": phone}, headers=admin["headers"]
    )
    assert response.status_code == 201
    assert [a["user_id"] for a in response.json()["admins"]] == [admin["user_id"], colleague["user_id"]]
    assert client.get(f"/v1/enterprises/{enterprise['id']}", headers=colleague["headers"]).status_code == 200
    entries = db.exec(select(AuditEntry).where(AuditEntry.subject_id == enterprise["subject_id"])).all()
    assert [(e.action, e.actor_id, e.details) for e in entries] == [
        (
            "enterprise.admin_added",
            admin["user_id"],
            {"enterprise_id": enterprise["id"], "user_id": colleague["user_id"]},
        )
    ]


def test_adding_twice_or_an_unknown_phone_is_refused(
    client: TestClient, sms: RecordingSender, admin: dict, db: Session
) -> None:
    enterprise = client.post(
        "/v1/enterprises", json={"name": "天山小微科技", "uscc": make_uscc()}, headers=admin["headers"]
    ).json()
    before = table_snapshot(db)
    url = f"/v1/enterprises/{enterprise['id']}/admins"
    assert_problem(
        client.post(url, json={"phone": make_phone()}, headers=admin["headers"]),
        404,
        "user_not_found",
        "phone",
    )
    assert_problem(
        client.post(url, json={"phone": "123"}, headers=admin["headers"]), 422, "invalid_phone", "phone"
    )
    assert table_snapshot(db) == before


def test_non_admins_cannot_see_or_change_an_enterprise(
    client: TestClient, sms: RecordingSender, admin: dict, db: Session
) -> None:
    enterprise = client.post(
        "/v1/enterprises", json={"name": "天山小微科技", "uscc": make_uscc()}, headers=admin["headers"]
    ).json()
    outsider_phone = make_phone()
    outsider = verified_resident(client, sms, outsider_phone)
    before = table_snapshot(db)
    assert_problem(
        client.get(f"/v1/enterprises/{enterprise['id']}", headers=outsider["headers"]),
        404,
        "enterprise_not_found",
    )
    response = client.post(
        f"/v1/enterprises/{enterprise['id']}/admins",
        json={"phone": outsider_phone},
        headers=outsider["headers"],
    )
    assert_problem(response, 404, "enterprise_not_found")
    assert table_snapshot(db) == before
    # (other tests may have committed enterprises of their own: look at this admin's only)
    mine = select(Enterprise).where(Enterprise.created_by == enterprise["admins"][0]["user_id"])
    assert db.exec(mine).all() == [db.get(Enterprise, enterprise["id"])]
