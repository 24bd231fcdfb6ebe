"""The whole API flow, then every table and every log line: no plaintext ID number, phone number,
token or API key anywhere (DESIGN.md: never log it, never put it in a token or a URL)."""

from __future__ import annotations

import base64
import json

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from app.core.sms import RecordingSender
from tests.core.test_logging import capture_json_logs
from tests.helpers import make_id_number, make_phone, make_uscc, sign_in
from tests.test_subjects_admin import make_operator


def every_stored_value(db: Session) -> str:
    db.flush()
    values = []
    for name in sorted(SQLModel.metadata.tables):
        for row in db.execute(text(f'SELECT * FROM "{name}"')).all():  # noqa: S608
            values.extend(str(v) for v in row)
    return "\n".join(values)


def test_no_plaintext_identifier_or_secret_is_stored_logged_or_tokenised(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    logs = capture_json_logs()
    id_number, bad_id = make_id_number(born="19850203"), make_id_number(born="19770707")
    bad_id = bad_id[:17] + ("0" if bad_id[17] != "0" else "1")
    phone, other_phone, operator_phone = make_phone(), make_phone(), make_phone()

    resident = sign_in(client, sms, phone)
    assert (
        client.put(
            "/v1/me/identity", json={"name": "马丽", "id_number": bad_id}, headers=resident["headers"]
        ).status_code
        == 422
    )
    bound = client.put(
        "/v1/me/identity", json={"name": "马丽", "id_number": id_number}, headers=resident["headers"]
    )
    assert bound.status_code == 200
    other = sign_in(client, sms, other_phone)
    refused = client.put(
        "/v1/me/identity", json={"name": "马丽", "id_number": id_number}, headers=other["headers"]
    )
    assert refused.status_code == 409
    enterprise = client.post(
        "/v1/enterprises", json={"name": "天山小微", "uscc": make_uscc()}, headers=resident["headers"]
    )
    assert enterprise.status_code == 201
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": resident["refresh_token"]}).json()

    operator = make_operator(client, sms, db, operator_phone)
    partner = client.post(
        "/v1/admin/partners", json={"name": "某充电宝", "kind": "merchant"}, headers=operator["headers"]
    )
    assert partner.status_code == 201
    key = client.post(
        f"/v1/admin/partners/{partner.json()['id']}/api-keys",
        json={"name": "kiosk"},
        headers=operator["headers"],
    )
    assert key.status_code == 201
    secret = key.json()["secret"]
    assert client.get("/v1/partner/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    subject_id = bound.json()["subject_id"]
    read = client.get(
        f"/v1/admin/subjects/{subject_id}", params={"purpose": "hotline request"}, headers=operator["headers"]
    )
    assert read.status_code == 200
    log = client.get("/v1/me/access-log", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert log.status_code == 200

    # Responses show the number masked only.
    for response in (bound, refused, read, log):
        assert id_number not in response.text
    # Tokens carry no personal data.
    claims = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert set(claims) == {"sub", "aud", "iat", "exp", "jti", "sid"}
    header_and_claims = "".join(
        base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()
        for part in refreshed["access_token"].split(".")[:2]
    )
    assert id_number not in header_and_claims and phone not in header_and_claims

    stored = every_stored_value(db)
    logged = logs.getvalue()
    assert logged, "the flow logged nothing: the capture is broken"
    for label, secret_value in [
        ("id number", id_number),
        ("id number without check digit", id_number[:17]),
        ("refused id number", bad_id),
        ("phone", phone),
        ("other phone", other_phone),
        ("operator phone", operator_phone),
        ("api key", secret),
        ("refresh token", resident["refresh_token"]),
        ("new refresh token", refreshed["refresh_token"]),
        ("access token", refreshed["access_token"]),
    ]:
        assert secret_value not in stored, f"{label} stored in clear"
        assert secret_value not in logged, f"{label} logged"
    for line in logged.splitlines():
        json.loads(line)  # every log line is structured JSON
