"""Offline codes: issuance rules, their QR, reconciliation with double-use flags, and the deny list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from datetime import datetime, timedelta
from typing import Any

import jwt
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.store import Incr, Operation
from app.passes import qr
from app.verifications import stream
from app.verifications.models import Verification
from tests.core.test_errors import assert_problem
from tests.helpers import table_snapshot
from tests.passes.helpers import black_list, issue, partner, resident, touch, verify
from tests.test_subjects_admin import make_operator

# Only QR symbols: on about 1 token in 300 zxing also "finds" a Codabar inside the QR's modules.
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def offline_codes(
    client: TestClient, holder: dict[str, Any], count: int = 3, scenario: str = "deposit_free_rental"
):
    return client.post(
        "/v1/me/passes/offline", json={"scenario": scenario, "count": count}, headers=holder["headers"]
    )


def report(client: TestClient, who: dict[str, Any], *items: dict[str, Any]):
    return client.post("/v1/offline/reports", json={"items": list(items)}, headers=who["headers"])


def used(token: str, scenario: str = "deposit_free_rental", at: datetime | None = None) -> dict[str, Any]:
    return {"token": token, "scenario": scenario, "used_at": (at or utcnow()).isoformat()}


def test_offline_codes_carry_their_scenario_last_a_day_and_fit_version_11(
    client: TestClient, holder: dict[str, Any]
) -> None:
    response = offline_codes(client, holder, count=3)
    assert response.status_code == 201, response.text
    codes = response.json()["data"]
    assert len(codes) == 3 and len({c["id"] for c in codes}) == 3
    for code in codes:
        assert code["id"].startswith("ofc_") and code["kind"] == "offline"
        claims = claims_of(code["token"])
        assert list(claims) == ["h", "sc", "nbf", "exp"]
        assert claims["sc"] == "deposit_free_rental"
        assert claims["exp"] - claims["nbf"] == 24 * 3600 + 5
        assert len(code["token"]) == 292
        assert code["qr"]["version"] == 11
    png = client.get(codes[0]["qr"]["png_url"], headers=holder["headers"])
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)), formats=QR_ONLY)[0]
    extra: dict[str, Any] = decoded.extra  # type: ignore[assignment]
    assert (extra["Version"], extra["ECLevel"]) == ("11", "M")
    assert qr.from_numeric(decoded.text) == codes[0]["token"]  # the token signed again is the same token
    listed = client.get("/v1/me/passes/offline", headers=holder["headers"]).json()["data"]
    assert sorted(c["id"] for c in listed) == sorted(c["id"] for c in codes)


def test_offline_codes_are_refused_for_high_value_scenarios_ineligible_subjects_and_beyond_ten(
    client: TestClient, db: Session, holder: dict[str, Any]
) -> None:
    issue(client, holder)  # the signing key exists before the snapshot
    before = table_snapshot(db)
    assert_problem(offline_codes(client, holder, scenario="travel"), 422, "scenario_not_offline", "scenario")
    assert_problem(offline_codes(client, holder, scenario="nowhere"), 422, "unknown_scenario", "scenario")
    assert_problem(offline_codes(client, holder, count=11), 422, "invalid_request", "count")
    assert table_snapshot(db) == before
    assert offline_codes(client, holder, count=8).status_code == 201
    assert_problem(offline_codes(client, holder, count=3), 409, "offline_code_limit", "count")
    # a black-listed resident gets none
    black_list(client, db, holder)
    refused = assert_problem(offline_codes(client, holder, count=1), 409, "not_eligible", "scenario")
    assert refused["reason"] == "restricted"


def test_an_offline_code_verified_online_is_used_up_and_bound_to_its_scenario(
    client: TestClient, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    first, second = offline_codes(client, holder, count=2).json()["data"]
    assert_problem(
        verify(client, merchant, first["token"], "parking"), 422, "token_scenario_mismatch", "token"
    )
    accepted = verify(client, merchant, first["token"])
    assert accepted.status_code == 201 and accepted.json()["decision"] == "eligible"
    assert_problem(verify(client, merchant, first["token"]), 409, "token_replayed", "token")
    # a revoked code is refused, and the refusal recorded
    assert client.delete(f"/v1/me/passes/{second['id']}", headers=holder["headers"]).status_code == 204
    assert verify(client, merchant, second["token"]).json()["reason"] == "pass_revoked"


def test_reports_are_reconciled_and_a_code_used_twice_is_flagged_for_operators(
    client: TestClient, db: Session, sms: Any, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    code = offline_codes(client, holder, count=1).json()["data"][0]
    other = partner(db, "merchant")
    at = utcnow()

    # the first kiosk reports its use: recorded, audited, with the pseudonym an online check would give
    first = report(client, merchant, used(code["token"], at=at))
    assert first.status_code == 200, first.text
    item = first.json()["data"][0]
    assert (item["index"], item["status"], item["code"]) == (0, "recorded", None)
    assert item["subject"] == verify(client, merchant, issue(client, holder)["token"]).json()["subject"]

    # the same report again (an SDK retry) changes nothing
    touch(client, merchant)
    before = table_snapshot(db)
    retry = report(client, merchant, used(code["token"], at=at)).json()["data"][0]
    assert (retry["status"], retry["verification_id"]) == ("duplicate", item["verification_id"])
    assert table_snapshot(db) == before

    # a second kiosk reports the same code: recorded too, and both uses are flagged
    second = report(client, other, used(code["token"])).json()["data"][0]
    assert second["status"] == "flagged"
    flagged = db.exec(select(Verification).where(Verification.pass_id == code["id"])).all()
    assert sorted((v.partner_id, v.mode, v.flagged) for v in flagged) == sorted(
        [(merchant["id"], "offline", True), (other["id"], "offline", True)]
    )
    entries = db.exec(
        select(AuditEntry).where(
            AuditEntry.subject_id == holder["subject_id"], AuditEntry.action == "pass.used_offline"
        )
    ).all()
    assert len(entries) == 2

    # the resident sees both, flagged; operators see them in the flagged list
    mine = client.get("/v1/me/verifications", headers=holder["headers"]).json()["data"]
    assert [(s["mode"], s["flagged"]) for s in mine if s["mode"] == "offline"] == [("offline", True)] * 2
    operator = make_operator(client, sms, db)
    listed = client.get("/v1/admin/verifications/flagged", headers=operator["headers"]).json()["data"]
    assert {v["id"] for v in listed} >= {item["verification_id"], second["verification_id"]}
    # and the code can no longer be used online
    assert_problem(verify(client, merchant, code["token"]), 409, "token_replayed", "token")


def test_a_report_tells_each_residents_stream_once_in_one_round_trip(
    client: TestClient, sms: Any, holder: dict[str, Any], merchant: dict[str, Any], monkeypatch: Any
) -> None:
    # given two residents' offline codes, two of one and one of the other, used at a kiosk
    other = resident(client, sms)
    codes = (
        offline_codes(client, holder, count=2).json()["data"] + offline_codes(client, other, 1).json()["data"]
    )
    store = client.app.state.store  # type: ignore[attr-defined]
    counters = [stream.counter_key(holder["subject_id"]), stream.counter_key(other["subject_id"])]
    before = [int(store.get(key) or 0) for key in counters]
    batches: list[list[Operation]] = []
    on_loop = client.app.state.store_on_loop  # type: ignore[attr-defined]
    send = on_loop.batch

    async def counted(operations: list[Operation]) -> list[Any]:
        batches.append(list(operations))
        return await send(operations)

    monkeypatch.setattr(on_loop, "batch", counted)

    # when the kiosk reports the three uses at once
    at = utcnow()
    reported = report(client, merchant, *(used(c["token"], at=at) for c in codes))

    # then all three are recorded, and each resident's stream is told once, in one round trip to the store
    assert [i["status"] for i in reported.json()["data"]] == ["recorded"] * 3
    assert [int(store.get(key) or 0) for key in counters] == [before[0] + 1, before[1] + 1]
    notices = [b for b in batches if any(isinstance(op, Incr) for op in b)]
    assert [[op.key for op in b] for b in notices] == [counters]

    # and a retry of the same report (all duplicates) tells nobody
    batches.clear()
    again = report(client, merchant, *(used(c["token"], at=at) for c in codes))
    assert [i["status"] for i in again.json()["data"]] == ["duplicate"] * 3
    assert [b for b in batches if any(isinstance(op, Incr) for op in b)] == []
    assert [int(store.get(key) or 0) for key in counters] == [before[0] + 1, before[1] + 1]


def test_bad_report_items_are_rejected_one_by_one(
    client: TestClient, db: Session, holder: dict[str, Any], merchant: dict[str, Any], counter: dict[str, Any]
) -> None:
    code = offline_codes(client, holder, count=1).json()["data"][0]
    online = issue(client, holder)["token"]
    touch(client, merchant)
    before = table_snapshot(db)
    response = report(
        client,
        merchant,
        used(online),
        used(code["token"], "parking"),
        used(code["token"][:-4] + "AAAA"),
        used(code["token"], at=utcnow() + timedelta(hours=1)),
        used(code["token"], at=utcnow() + timedelta(days=2)),
    )
    assert [(i["status"], i["code"]) for i in response.json()["data"]] == [
        ("rejected", "token_online_only"),
        ("rejected", "token_scenario_mismatch"),
        ("rejected", "token_invalid_signature"),
        ("rejected", "used_at_in_future"),
        ("rejected", "used_at_in_future"),
    ]
    assert table_snapshot(db) == before
    wrong_kind = report(client, counter, used(code["token"])).json()["data"][0]
    assert (wrong_kind["status"], wrong_kind["code"]) == ("rejected", "scenario_not_allowed_for_partner")


def test_the_deny_list_names_revoked_used_and_black_listed_codes_by_salted_hash(
    client: TestClient, db: Session, sms: Any, holder: dict[str, Any], merchant: dict[str, Any]
) -> None:
    from tests.passes.helpers import resident

    fresh, revoked, spent = offline_codes(client, holder, count=3).json()["data"]
    outlaw = resident(client, sms)
    outlawed = offline_codes(client, outlaw, count=2).json()["data"]
    client.delete(f"/v1/me/passes/{revoked['id']}", headers=holder["headers"])
    verify(client, merchant, spent["token"])
    black_list(client, db, outlaw)

    response = client.get("/v1/offline/deny-list")  # public, like the JWKS
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwt"
    token = response.text
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert set(header) == {"alg", "kid"} and header["alg"] == "EdDSA"
    jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == header["kid"])
    payload = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"])
    assert set(payload) == {"v", "iat", "max_age", "salt", "hashes"}
    assert payload["max_age"] == 12 * 3600
    salt = base64.urlsafe_b64decode(payload["salt"] + "==")
    assert len(salt) == 16

    def entry(code: dict[str, Any]) -> str:
        digest = hmac.new(salt, claims_of(code["token"])["h"].encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()[:16]

    hashes = set(payload["hashes"])
    assert {entry(revoked), entry(spent), *(entry(c) for c in outlawed)} <= hashes
    assert entry(fresh) not in hashes
    assert holder["subject_id"] not in token and outlaw["subject_id"] not in json.dumps(payload)
