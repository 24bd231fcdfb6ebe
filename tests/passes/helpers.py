"""Residents with a bound ID, partners with keys, passes, and tokens made by hand, for pass tests."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.clock import business_date, utcnow
from app.core.principal import Principal
from app.core.sms import RecordingSender
from app.partners import service as partners_service
from tests.helpers import make_id_number, make_phone, sign_in

SETUP = Principal(type="system", id="test-setup")


def unique_id_number() -> str:
    """An ID number no other test (nor an earlier committed run) uses."""
    region = f"{secrets.randbelow(800000) + 110000:06d}"
    born = f"19{secrets.randbelow(80) + 20:02d}0{secrets.randbelow(9) + 1}1{secrets.randbelow(9)}"
    return make_id_number(region=region, born=born, seq=f"{secrets.randbelow(1000):03d}")


def resident(client: TestClient, sms: RecordingSender) -> dict[str, Any]:
    """A signed-in resident with a bound ID: ``{"id", "headers", "refresh_token", "subject_id", "id_number"}``."""
    pair = sign_in(client, sms, make_phone())
    number = unique_id_number()
    bound = client.put("/v1/me/identity", json={"name": "陈静", "id_number": number}, headers=pair["headers"])
    assert bound.status_code == 200, bound.text
    return {
        "id": pair["user_id"],
        "headers": pair["headers"],
        "refresh_token": pair["refresh_token"],
        "subject_id": bound.json()["subject_id"],
        "id_number": number,
    }


def partner(
    db: Session, kind: str = "merchant", scopes: list[str] | None = None, name: str | None = None
) -> dict[str, Any]:
    """A partner and an API key, through the partners service: ``{"id", "kind", "headers"}``."""
    organisation = partners_service.create_partner(
        db, SETUP, name or f"测试商户 {uuid.uuid4().hex[:6]}", kind
    )
    issued = partners_service.create_api_key(db, SETUP, organisation.id, "test", scopes)
    db.commit()  # releases the test's savepoint only; the outer transaction is still rolled back
    return {"id": organisation.id, "kind": kind, "headers": {"Authorization": f"Bearer {issued.secret}"}}


def touch(client: TestClient, who: dict[str, Any]) -> None:
    """Use a key once, so its last-used time (written at most once a minute) is fresh before a snapshot."""
    assert client.get("/v1/partner/me", headers=who["headers"]).status_code == 200


def issue(client: TestClient, holder: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/me/passes", headers=holder["headers"])
    assert response.status_code == 201, response.text
    return response.json()


def verify(
    client: TestClient, who: dict[str, Any], token: str, scenario: str = "deposit_free_rental", **headers: str
):
    return client.post(
        "/v1/verifications",
        json={"token": token, "scenario": scenario},
        headers={**who["headers"], **headers},
    )


def black_list(client: TestClient, db: Session, holder: dict[str, Any]) -> None:
    """Put the resident on the black list, the way a department does: a records batch."""
    provider = partner(db, "data_provider", ["records:write"], name=f"法院 {uuid.uuid4().hex[:6]}")
    row = {
        "source_record_id": f"blk-{uuid.uuid4().hex[:12]}",
        "category": "black_list",
        "id_number": holder["id_number"],
        "legal_basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
        "start_date": (business_date() - timedelta(days=10)).isoformat(),
    }
    response = client.post(
        "/v1/records/batches",
        json={"records": [row]},
        headers={**provider["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 1, response.text


def sign(app: FastAPI, db: Session, claims: dict[str, Any]) -> str:
    """A token signed with the platform's current key, claims as given."""
    return app.state.keyring.sign(db, claims, utcnow())


def now_s() -> int:
    return int(utcnow().timestamp())
