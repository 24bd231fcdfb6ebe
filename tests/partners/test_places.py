"""A partner's public face (display name, district, address, scenarios) and where residents can use 信易+."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.core.sms import RecordingSender
from tests.core.test_errors import assert_problem
from tests.helpers import table_snapshot
from tests.partners.helpers import create_partner
from tests.passes.helpers import resident as verified_resident

PLACE = {
    "display_name": "天山共享充电宝 光明路店",
    "district": "天山区",
    "address": "乌鲁木齐市天山区光明路 39 号",
    "offered_scenarios": ["deposit_free_rental", "parking"],
}


def _place_of(client: TestClient, partner_id: str) -> dict | None:
    return next((p for p in client.get("/v1/places").json()["data"] if p["id"] == partner_id), None)


def test_an_operator_lists_a_partner_and_residents_find_it(client, db: Session, operator):
    partner = create_partner(client, operator, name=f"天山共享充电宝有限公司 {uuid.uuid4().hex[:6]}")
    assert _place_of(client, partner["id"]) is None  # not listed before it has a public face

    response = client.patch(f"/v1/admin/partners/{partner['id']}", json=PLACE, headers=operator["headers"])

    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in PLACE} == PLACE
    listed = client.get("/v1/places")
    assert listed.headers["cache-control"] == "public, max-age=300"
    assert _place_of(client, partner["id"]) == {
        "id": partner["id"],
        "object": "place",
        "display_name": "天山共享充电宝 光明路店",
        "kind": "merchant",
        "district": "天山区",
        "address": "乌鲁木齐市天山区光明路 39 号",
        "scenarios": ["deposit_free_rental", "parking"],
    }
    audited = db.exec(select(AuditEntry).where(AuditEntry.action == "partner.profile_changed")).all()
    assert [a.details for a in audited if a.details["partner_id"] == partner["id"]] == [
        {"partner_id": partner["id"], "fields": ["address", "display_name", "district", "offered_scenarios"]}
    ]

    # Only the fields sent change; a suspended partner is no longer shown
    client.patch(
        f"/v1/admin/partners/{partner['id']}", json={"address": "光明路 41 号"}, headers=operator["headers"]
    )
    assert _place_of(client, partner["id"])["address"] == "光明路 41 号"
    assert _place_of(client, partner["id"])["scenarios"] == ["deposit_free_rental", "parking"]
    client.post(f"/v1/admin/partners/{partner['id']}/suspend", headers=operator["headers"])
    assert _place_of(client, partner["id"]) is None


def test_a_partner_cannot_offer_what_its_kind_may_not_verify(client, db: Session, operator):
    bank = create_partner(client, operator, name=f"测试银行 {uuid.uuid4().hex[:6]}", kind="bank")
    before = table_snapshot(db)
    for body, code, param in [
        (
            {**PLACE, "offered_scenarios": ["xinyidai", "deposit_free_rental"]},
            "scenario_not_allowed",
            "offered_scenarios.1",
        ),
        ({**PLACE, "offered_scenarios": ["moon_rental"]}, "unknown_scenario", "offered_scenarios.0"),
        ({"display_name": "测试银行"}, "place_incomplete", "district"),
        ({**PLACE, "district": "  "}, "invalid_text", "district"),
    ]:
        response = client.patch(f"/v1/admin/partners/{bank['id']}", json=body, headers=operator["headers"])
        assert_problem(response, 422, code, param)
    assert table_snapshot(db) == before


def test_only_operators_change_a_public_face(client, db: Session, operator, resident):
    partner = create_partner(client, operator, name=f"测试商户 {uuid.uuid4().hex[:6]}")
    before = table_snapshot(db)
    response = client.patch(f"/v1/admin/partners/{partner['id']}", json=PLACE, headers=resident["headers"])
    assert_problem(response, 403, "role_required")
    assert table_snapshot(db) == before


def test_a_resident_sees_what_their_level_unlocks(client, sms: RecordingSender):
    holder = verified_resident(client, sms)  # no records: the base score, level B
    response = client.get("/v1/me/scenarios", headers=holder["headers"])
    assert response.status_code == 200, response.text
    by_id = {item["scenario"]["id"]: item for item in response.json()["data"]}
    rental = by_id["deposit_free_rental"]
    assert (rental["eligible"], rental["reason"], rental["scenario"]["min_level"]) == (True, "level_met", "B")
    assert rental["benefit"]["waived_deposit_fen"]["power_bank"] == 9900
    assert rental["scenario"]["names"]["zh"] == "信易租"
    travel = by_id["travel"]
    assert (travel["eligible"], travel["reason"], travel["benefit"]) == (False, "level_too_low", None)
    assert travel["reason_labels"]["zh"]


def test_my_scenarios_need_a_bound_identity(client, resident):
    assert_problem(client.get("/v1/me/scenarios", headers=resident["headers"]), 404, "identity_not_bound")
