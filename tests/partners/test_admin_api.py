"""The operator's partner API: onboarding, listing, suspending; and who may not use it."""

from __future__ import annotations

from sqlmodel import col, select

from app.audit.models import AuditEntry
from app.partners.models import Partner
from tests.helpers import table_snapshot
from tests.partners.helpers import bearer, create_key, create_partner


def audit_actions(db, actor_id: str) -> list[tuple[str, dict]]:
    rows = db.exec(
        select(AuditEntry).where(AuditEntry.actor_id == actor_id).order_by(col(AuditEntry.seq))
    ).all()
    return [(row.action, row.details) for row in rows]


def test_operator_creates_a_partner_and_reads_it_back(client, db, operator):
    response = client.post(
        "/v1/admin/partners",
        json={"name": "  芜湖共享充电宝有限公司 ", "kind": "merchant"},
        headers=operator["headers"],
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("ptn_")
    assert body == {
        "id": body["id"],
        "object": "partner",
        "name": "芜湖共享充电宝有限公司",
        "kind": "merchant",
        "status": "active",
        "created_by": operator["id"],
        "created_at": body["created_at"],
        "display_name": None,
        "district": None,
        "address": None,
        "offered_scenarios": [],
    }
    assert client.get(f"/v1/admin/partners/{body['id']}", headers=operator["headers"]).json() == body
    entry = db.exec(
        select(AuditEntry).where(
            AuditEntry.action == "partner.created", AuditEntry.actor_id == operator["id"]
        )
    ).one()
    assert (entry.chain, entry.subject_id, entry.actor_type, entry.actor_id) == (
        "system",
        None,
        "operator",
        operator["id"],
    )
    assert entry.details == {"partner_id": body["id"], "kind": "merchant"}


def test_idempotent_partner_creation_replays_the_first_response(client, db, operator):
    headers = {**operator["headers"], "Idempotency-Key": "onboard-bank-1"}
    body = {"name": "徽商银行芜湖分行", "kind": "bank"}

    first = client.post("/v1/admin/partners", json=body, headers=headers)
    before = table_snapshot(db)
    second = client.post("/v1/admin/partners", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert table_snapshot(db) == before
    assert len(db.exec(select(Partner).where(Partner.name == "徽商银行芜湖分行")).all()) == 1

    other = client.post("/v1/admin/partners", json={**body, "kind": "merchant"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert table_snapshot(db) == before


def test_an_unknown_kind_is_refused_naming_kind(client, db, operator):
    before = table_snapshot(db)

    response = client.post(
        "/v1/admin/partners", json={"name": "Some Co.", "kind": "casino"}, headers=operator["headers"]
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["param"]) == ("invalid_request", "kind")
    assert "casino" not in response.text  # rejected input is never echoed
    assert table_snapshot(db) == before


def test_a_blank_name_is_refused(client, db, operator):
    before = table_snapshot(db)

    response = client.post(
        "/v1/admin/partners", json={"name": "   ", "kind": "bank"}, headers=operator["headers"]
    )

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["param"]) == ("invalid_name", "name")
    assert table_snapshot(db) == before


def test_an_unknown_partner_is_404(client, operator):
    response = client.get("/v1/admin/partners/ptn_nope", headers=operator["headers"])

    assert response.status_code == 404
    assert response.json()["code"] == "partner_not_found"


ADMIN_CALLS = [
    ("post", "/v1/admin/partners", {"name": "X", "kind": "merchant"}),
    ("get", "/v1/admin/partners", None),
    ("get", "/v1/admin/partners/{pid}", None),
    ("post", "/v1/admin/partners/{pid}/suspend", None),
    ("post", "/v1/admin/partners/{pid}/reactivate", None),
    ("post", "/v1/admin/partners/{pid}/api-keys", {"name": "mine"}),
    ("get", "/v1/admin/partners/{pid}/api-keys", None),
    ("post", "/v1/admin/partners/{pid}/api-keys/{kid}/revoke", None),
]


def _call(client, method: str, path: str, body, headers):
    kwargs = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(path, **kwargs)


def test_a_resident_is_refused_every_admin_call_and_nothing_changes(client, db, operator, resident):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    before = table_snapshot(db)

    for method, template, body in ADMIN_CALLS:
        path = template.format(pid=partner["id"], kid=key["id"])
        response = _call(client, method, path, body, resident["headers"])
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "role_required", (method, path)

    assert table_snapshot(db) == before


def test_a_partner_key_is_refused_the_admin_api(client, db, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])
    client.get("/v1/partner/me", headers=bearer(key["secret"]))  # last_used_at is now set
    before = table_snapshot(db)

    for method, template, body in ADMIN_CALLS:
        path = template.format(pid=partner["id"], kid=key["id"])
        response = _call(client, method, path, body, bearer(key["secret"]))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "user_required", (method, path)

    assert table_snapshot(db) == before


def test_no_credentials_is_401(client, db):
    before = table_snapshot(db)

    response = client.post("/v1/admin/partners", json={"name": "X", "kind": "merchant"})

    assert response.status_code == 401
    assert response.json()["code"] == "missing_credentials"
    assert table_snapshot(db) == before


def test_partners_list_newest_first_with_a_cursor(client, operator):
    first = create_partner(client, operator, name="A", kind="merchant")
    second = create_partner(client, operator, name="B", kind="bank")
    third = create_partner(client, operator, name="C", kind="merchant")

    page = client.get("/v1/admin/partners?limit=2", headers=operator["headers"]).json()
    assert page["object"] == "list"
    assert [p["id"] for p in page["data"]] == [third["id"], second["id"]]
    assert page["has_more"] is True

    rest = client.get(
        f"/v1/admin/partners?limit=1&starting_after={second['id']}", headers=operator["headers"]
    ).json()
    assert rest["data"] == [first]

    older = client.get(
        f"/v1/admin/partners?limit=100&starting_after={first['id']}", headers=operator["headers"]
    ).json()
    assert {first["id"], second["id"], third["id"]}.isdisjoint(p["id"] for p in older["data"])

    banks = client.get("/v1/admin/partners?kind=bank&limit=100", headers=operator["headers"]).json()
    assert second in banks["data"]
    assert {p["kind"] for p in banks["data"]} == {"bank"}


def test_a_bad_page_size_is_refused_naming_limit(client, operator):
    response = client.get("/v1/admin/partners?limit=0", headers=operator["headers"])

    assert response.status_code == 422
    assert response.json()["param"] == "limit"


def test_suspension_refuses_the_partners_keys_until_reactivated(client, db, operator):
    partner = create_partner(client, operator)
    key = create_key(client, operator, partner["id"])

    suspended = client.post(f"/v1/admin/partners/{partner['id']}/suspend", headers=operator["headers"])
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    again = client.post(f"/v1/admin/partners/{partner['id']}/suspend", headers=operator["headers"])
    assert again.json() == suspended.json()

    before = table_snapshot(db)
    refused = client.get("/v1/partner/me", headers=bearer(key["secret"]))
    assert refused.status_code == 403
    assert refused.json()["code"] == "partner_suspended"
    new_key = client.post(
        f"/v1/admin/partners/{partner['id']}/api-keys", json={}, headers=operator["headers"]
    )
    assert new_key.status_code == 409
    assert (new_key.json()["code"], new_key.json()["param"]) == ("partner_suspended", "partner_id")
    assert table_snapshot(db) == before

    reactivated = client.post(f"/v1/admin/partners/{partner['id']}/reactivate", headers=operator["headers"])
    assert reactivated.json()["status"] == "active"
    assert client.get("/v1/partner/me", headers=bearer(key["secret"])).status_code == 200

    assert [action for action, _ in audit_actions(db, operator["id"])] == [
        "partner.created",
        "api_key.created",
        "partner.suspended",  # once: suspending a suspended partner records nothing
        "partner.reactivated",
    ]
