"""Binding name + 身份证号: validated, encrypted, masked, one ID per account and one account per ID."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.sms import RecordingSender
from app.subjects.identifiers import id_number_check_char
from app.subjects.models import Subject
from tests.core.test_errors import assert_problem
from tests.helpers import make_id_number, make_phone, sign_in, table_snapshot


@pytest.fixture
def resident(client: TestClient, sms: RecordingSender) -> dict:
    return sign_in(client, sms, make_phone())


def test_binding_stores_the_number_encrypted_and_shows_it_masked(
    app, client: TestClient, resident: dict, db: Session
) -> None:
    id_number = make_id_number(region="650102", born="19900307", seq="123")
    response = client.put(
        "/v1/me/identity", json={"name": "张三丰", "id_number": id_number}, headers=resident["headers"]
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id_number"] == "650102********" + id_number[-4:]
    assert body["name"] == "张**"
    assert id_number not in response.text
    subject = db.get(Subject, body["subject_id"])
    assert subject is not None
    assert subject.kind == "person"
    assert id_number not in (subject.id_number_ciphertext or "")
    me = client.get("/v1/me", headers=resident["headers"]).json()
    assert me["identity"]["id_number"] == body["id_number"]
    assert client.get("/v1/me/identity", headers=resident["headers"]).json() == body


def test_the_ciphertext_decrypts_to_the_number(app, client: TestClient, resident: dict, db: Session) -> None:
    from app.core.security import Sealed
    from app.subjects.service import ID_NUMBER_PURPOSE

    id_number = make_id_number()
    subject_id = client.put(
        "/v1/me/identity", json={"name": "李四", "id_number": id_number}, headers=resident["headers"]
    ).json()["subject_id"]
    subject = db.get(Subject, subject_id)
    assert subject is not None and subject.id_number_ciphertext and subject.id_number_kid == "t1"
    sealed = Sealed(subject.id_number_kid, subject.id_number_ciphertext)
    assert app.state.crypto.cipher.open(sealed, ID_NUMBER_PURPOSE) == id_number


def test_binding_the_same_number_again_is_idempotent(client: TestClient, resident: dict) -> None:
    id_number = make_id_number()
    first = client.put(
        "/v1/me/identity", json={"name": "李四", "id_number": id_number}, headers=resident["headers"]
    )
    again = client.put(
        "/v1/me/identity", json={"name": "李四", "id_number": id_number}, headers=resident["headers"]
    )
    assert again.status_code == 200
    assert again.json() == first.json()


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda n: n[:17] + ("0" if n[17] != "0" else "1"), "invalid_id_number_check_digit"),
        (lambda n: n[:10], "invalid_id_number"),
        (
            lambda n: (lambda f: f + id_number_check_char(f))(n[:6] + "20991231" + n[14:17]),
            "implausible_birth_date",
        ),
        (
            lambda n: (lambda f: f + id_number_check_char(f))(n[:6] + "19900230" + n[14:17]),
            "implausible_birth_date",
        ),
    ],
)
def test_bad_id_numbers_are_refused_and_nothing_changes(
    client: TestClient, resident: dict, db: Session, mangle, code: str
) -> None:
    bad = mangle(make_id_number())
    before = table_snapshot(db)
    response = client.put(
        "/v1/me/identity", json={"name": "王五", "id_number": bad}, headers=resident["headers"]
    )
    assert_problem(response, 422, code, "id_number")
    assert bad not in response.text
    assert table_snapshot(db) == before


def test_an_id_bound_to_another_account_is_refused(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    id_number = make_id_number()
    first = sign_in(client, sms, make_phone())
    second = sign_in(client, sms, make_phone())
    assert (
        client.put(
            "/v1/me/identity", json={"name": "赵六", "id_number": id_number}, headers=first["headers"]
        ).status_code
        == 200
    )
    before = table_snapshot(db)
    response = client.put(
        "/v1/me/identity", json={"name": "赵六", "id_number": id_number}, headers=second["headers"]
    )
    assert_problem(response, 409, "id_number_already_bound", "id_number")
    assert table_snapshot(db) == before
    assert client.get("/v1/me", headers=second["headers"]).json()["identity"] is None


def test_an_account_cannot_switch_to_another_id(client: TestClient, resident: dict, db: Session) -> None:
    client.put(
        "/v1/me/identity", json={"name": "钱七", "id_number": make_id_number()}, headers=resident["headers"]
    )
    before = table_snapshot(db)
    response = client.put(
        "/v1/me/identity",
        json={"name": "钱七", "id_number": make_id_number(born="19800101")},
        headers=resident["headers"],
    )
    assert_problem(response, 409, "identity_already_bound", "id_number")
    assert table_snapshot(db) == before


def test_identity_not_bound_yet(client: TestClient, resident: dict) -> None:
    assert_problem(client.get("/v1/me/identity", headers=resident["headers"]), 404, "identity_not_bound")
