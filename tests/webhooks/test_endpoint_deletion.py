"""Deleting a webhook endpoint is final (issue 17, finding 11): gone from GET and the list, PATCH cannot
bring it back, no new event is delivered to it; its delivery log stays for the record."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.webhooks import service
from app.webhooks.models import WebhookDelivery
from tests.core.test_errors import assert_problem
from tests.helpers import table_snapshot
from tests.passes import helpers as pass_helpers


def test_a_deleted_endpoint_is_gone_and_cannot_be_revived(client: TestClient, db: Session) -> None:
    # given a bank's endpoint with one delivery logged
    bank = pass_helpers.partner(db, "bank")
    created = client.post(
        "/v1/partner/webhook-endpoints", json={"url": "https://bank.example/hooks"}, headers=bank["headers"]
    )
    endpoint_id = created.json()["id"]
    event = service.emit(db, bank["id"], "referral.created", {"referral_id": "ref_before"})
    db.commit()

    # when the bank deletes it
    deleted = client.delete(f"/v1/partner/webhook-endpoints/{endpoint_id}", headers=bank["headers"])
    assert deleted.status_code == 200

    # then it is not found any more, not listed, and PATCH (even enabled: true) cannot bring it back
    path = f"/v1/partner/webhook-endpoints/{endpoint_id}"
    assert_problem(client.get(path, headers=bank["headers"]), 404, "webhook_endpoint_not_found")
    listed = client.get("/v1/partner/webhook-endpoints", headers=bank["headers"]).json()["data"]
    assert endpoint_id not in [e["id"] for e in listed]
    before = table_snapshot(db)
    for change in ({"enabled": True}, {"url": "https://bank.example/other"}):
        assert_problem(
            client.patch(path, json=change, headers=bank["headers"]), 404, "webhook_endpoint_not_found"
        )
    assert_problem(client.delete(path, headers=bank["headers"]), 404, "webhook_endpoint_not_found")
    assert_problem(
        client.post(f"{path}/rotate-secret", json={}, headers=bank["headers"]),
        404,
        "webhook_endpoint_not_found",
    )
    assert table_snapshot(db) == before
    # no new event is delivered to it; the old delivery stays in the log, stopped
    later = service.emit(db, bank["id"], "referral.created", {"referral_id": "ref_after"})
    assert db.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == later.id)).all() == []
    old = db.exec(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)).one()
    assert (old.endpoint_id, old.status, old.last_error) == (endpoint_id, "failed", "endpoint disabled")
