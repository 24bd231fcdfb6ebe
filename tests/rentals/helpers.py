"""Residents with a saved card, verifications, rentals, webhook deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.clock import utcnow
from app.core.sms import RecordingSender
from tests.passes import helpers as passes
from tests.rentals.stripe_standin import StripeStandIn


def resident(
    client: TestClient,
    sms: RecordingSender,
    standin: StripeStandIn | None = None,
    card: str | None = "pm_card_visa",
) -> dict[str, Any]:
    """A resident with a bound ID (level B: eligible) and, unless ``card`` is None, a saved card."""
    holder = passes.resident(client, sms)
    if card is not None:
        save_card(client, holder, standin, card)
    return holder


def save_card(
    client: TestClient, holder: dict[str, Any], standin: StripeStandIn | None, card: str = "pm_card_visa"
) -> None:
    setup = client.post("/v1/me/payment-method/setup", headers=holder["headers"])
    assert setup.status_code == 201, setup.text
    if standin is not None:  # what Stripe.js does in the app, then Stripe's webhook
        assert setup.json()["status"] == "requires_payment_method"
        standin.confirm_setup(setup.json()["id"], card)
        deliver(client, standin)
    saved = client.get("/v1/me/payment-method", headers=holder["headers"]).json()
    assert saved["saved"] is True, saved


def deliver(client: TestClient, standin: StripeStandIn) -> list[dict[str, Any]]:
    """Post every event the stand-in emitted to the webhook endpoint, as Stripe would."""
    answers = []
    for delivery in standin.take_events():
        response = client.post(
            "/v1/stripe/webhook",
            content=delivery.payload,
            headers={"Stripe-Signature": delivery.signature, "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def verification(client: TestClient, holder: dict[str, Any], merchant: dict[str, Any]) -> dict[str, Any]:
    pass_ = passes.issue(client, holder)
    response = passes.verify(client, merchant, pass_["token"])
    assert response.status_code == 201, response.text
    return response.json()


def open_rental(
    client: TestClient,
    merchant: dict[str, Any],
    verification_id: str,
    *,
    kind: str = "power_bank",
    deposit_fen: int = 9900,
    due_in: timedelta = timedelta(hours=4),
    key: str | None = None,
    due_at: str | None = None,
):
    return client.post(
        "/v1/rentals",
        json={
            "verification_id": verification_id,
            "item": {"kind": kind, "reference": "PB-0042"},
            "deposit_fen": deposit_fen,
            "due_at": due_at or (utcnow() + due_in).isoformat(),
        },
        headers={**merchant["headers"], "Idempotency-Key": key or uuid.uuid4().hex},
    )


def lower_to_c(client: TestClient, db: Session, holder: dict[str, Any]) -> None:
    """A serious administrative penalty: level C, not eligible for deposit-free rentals."""
    from tests.records.helpers import penalty

    provider = passes.partner(db, "data_provider", ["records:write"], name=f"市场监管 {uuid.uuid4().hex[:6]}")
    response = client.post(
        "/v1/records/batches",
        json={
            "records": [
                penalty(holder["id_number"], severity="serious", decision_date=utcnow().date().isoformat())
            ]
        },
        headers={**provider["headers"], "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201 and response.json()["created"] == 1, response.text


def score(client: TestClient, holder: dict[str, Any]) -> dict[str, Any]:
    response = client.get("/v1/me/score", headers=holder["headers"])
    assert response.status_code == 200, response.text
    return response.json()


def reason_codes(score_body: dict[str, Any]) -> set[str]:
    return {reason["code"] for dimension in score_body["breakdown"] for reason in dimension["reasons"]}


class Clock:
    """The suite's pinned clock, stopped, so that each step happens at an exact instant."""

    def __init__(self, machine: time_machine.TimeMachineFixture) -> None:
        self.machine = machine
        self.now = utcnow()
        machine.move_to(self.now, tick=False)

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        self.machine.move_to(self.now, tick=False)
        return self.now
