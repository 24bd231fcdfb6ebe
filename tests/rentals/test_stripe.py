"""The Stripe provider through the real SDK against the local stand-in: saved cards, holds cancelled on
return and captured on default, off-session collection, declines, authentication required, refunds,
inbound webhooks (signature, replay, no secret), and crashes between the Stripe call and the commit."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import func, select

from app.core.clock import utcnow
from app.payments import collections as payment_collections
from app.payments import reconcile as reconciliation
from app.payments import service as payments_service
from app.payments.models import Payment, StripeEvent
from app.rentals import defaults
from tests.helpers import refresh, table_snapshot
from tests.passes import helpers as passes
from tests.records.helpers import make_operator
from tests.rentals import helpers as h
from tests.rentals.test_defaults import EVIDENCE, settle


def intents(standin, rental_id: str) -> list[dict]:
    return [i for i in standin.intents.values() if i["metadata"].get("xinyi_rental") == rental_id]


def test_a_card_is_saved_through_a_setup_intent_and_its_webhook(stripe, sms, standin, db):
    holder = passes.resident(stripe, sms)
    setup = stripe.post("/v1/me/payment-method/setup", headers=holder["headers"]).json()
    assert (setup["provider"], setup["status"]) == ("stripe", "requires_payment_method")
    assert setup["client_secret"].startswith(setup["id"] + "_secret_")
    customer = standin.customers[standin.setups[setup["id"]]["customer"]]
    assert customer["metadata"] == {"xinyi_subject": holder["subject_id"]}  # nothing personal

    standin.confirm_setup(setup["id"], "pm_card_visa")
    acks = h.deliver(stripe, standin)

    assert acks == [{"received": True, "duplicate": False}]
    saved = stripe.get("/v1/me/payment-method", headers=holder["headers"]).json()
    assert saved == {
        "object": "payment_method",
        "provider": "stripe",
        "saved": True,
        "label": "visa •••• 4242",
    }
    event = db.exec(select(StripeEvent)).one()
    assert event.processed_at is not None


def test_a_hold_is_placed_with_manual_capture_and_cancelled_on_return(stripe, sms, standin, db, merchant):
    holder = h.resident(stripe, sms, standin)
    h.lower_to_c(stripe, db, holder)
    verification = h.verification(stripe, holder, merchant)

    rental = h.open_rental(stripe, merchant, verification["id"]).json()

    [intent] = intents(standin, rental["id"])
    assert (intent["amount"], intent["capture_method"], intent["status"]) == (
        9900,
        "manual",
        "requires_capture",
    )
    assert intent["metadata"]["xinyi_verification"] == verification["id"]
    assert ("POST", "/v1/payment_intents", f"xinyi-hold-{rental['id']}") in standin.requests
    assert rental["hold"]["status"] == "held"

    returned = stripe.post(f"/v1/rentals/{rental['id']}/return", headers=merchant["headers"]).json()

    assert returned["hold"]["status"] == "released"
    assert intent["status"] == "canceled"
    h.deliver(stripe, standin)  # the late webhooks change nothing
    assert stripe.get(f"/v1/rentals/{rental['id']}", headers=merchant["headers"]).json()["hold"][
        "status"
    ] == ("released")


def test_a_declined_card_refuses_the_rental_and_changes_nothing(stripe, sms, standin, db, merchant):
    holder = h.resident(stripe, sms, standin, card="pm_card_chargeDeclined")
    h.lower_to_c(stripe, db, holder)
    verification = h.verification(stripe, holder, merchant)
    passes.touch(stripe, merchant)
    snapshot = table_snapshot(db)

    response = h.open_rental(stripe, merchant, verification["id"])

    assert (response.status_code, response.json()["code"]) == (402, "card_declined")
    assert table_snapshot(db) == snapshot


def test_a_default_captures_the_hold_and_charges_the_waived_part_off_session(
    stripe_app, stripe, sms, standin, db, merchant, clock
):
    holder = h.resident(stripe, sms, standin)
    rental = h.open_rental(
        stripe, merchant, h.verification(stripe, holder, merchant)["id"], deposit_fen=15000
    )
    rental = rental.json()
    clock.advance(timedelta(hours=5))
    refresh(stripe, holder)
    stripe.post(
        f"/v1/rentals/{rental['id']}/default", json={"evidence": EVIDENCE}, headers=merchant["headers"]
    )

    settle(stripe_app, db, clock.advance(timedelta(days=7)))
    refresh(stripe, holder)

    hold, charge = sorted(intents(standin, rental["id"]), key=lambda i: i["capture_method"] == "automatic")
    assert (hold["status"], hold["amount_received"]) == ("succeeded", 5100)
    assert (charge["status"], charge["amount"], charge["capture_method"]) == ("succeeded", 9900, "automatic")
    mine = stripe.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    assert mine["hold"]["taken_fen"] == 5100 and mine["collection"]["status"] == "succeeded"


def test_authentication_required_off_session_becomes_a_collection_task(
    stripe_app, stripe, sms, standin, db, merchant, clock
):
    holder = h.resident(stripe, sms, standin, card="pm_card_authenticationRequired")
    rental = h.open_rental(stripe, merchant, h.verification(stripe, holder, merchant)["id"]).json()
    assert rental["fund_amount"] == 0  # no hold: the card is not touched at open
    clock.advance(timedelta(hours=5))
    refresh(stripe, holder)
    stripe.post(
        f"/v1/rentals/{rental['id']}/default", json={"evidence": EVIDENCE}, headers=merchant["headers"]
    )

    settle(stripe_app, db, clock.advance(timedelta(days=7)))
    h.deliver(stripe, standin)  # Stripe sends its events as they happen, not a day later
    refresh(stripe, holder)
    operator = make_operator(stripe, sms, db)  # signs in when there is something to do

    mine = stripe.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    assert mine["status"] == "defaulted"
    assert mine["collection"] == {"status": "action_required", "amount_fen": 9900, "taken_fen": 0}
    tasks = stripe.get("/v1/admin/payments?status=action_required", headers=operator["headers"]).json()[
        "data"
    ]
    assert [(t["rental_id"], t["last_error_code"]) for t in tasks] == [
        (rental["id"], "authentication_required")
    ]
    settle(stripe_app, db, clock.advance(timedelta(days=1)))  # not retried blindly
    refresh(stripe, holder)
    assert len(intents(standin, rental["id"])) == 1

    h.save_card(stripe, holder, standin, "pm_card_visa")  # the resident adds a card that works
    settle(stripe_app, db, clock.now + timedelta(seconds=1))

    mine = stripe.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    assert mine["collection"] == {"status": "succeeded", "amount_fen": 9900, "taken_fen": 9900}


def test_a_declined_collection_is_retried_with_backoff(stripe_app, stripe, sms, standin, db, merchant, clock):
    holder = h.resident(stripe, sms, standin, card="pm_card_chargeDeclined")
    rental = h.open_rental(stripe, merchant, h.verification(stripe, holder, merchant)["id"]).json()
    clock.advance(timedelta(hours=5))
    refresh(stripe, holder)
    stripe.post(
        f"/v1/rentals/{rental['id']}/default", json={"evidence": EVIDENCE}, headers=merchant["headers"]
    )

    settle(stripe_app, db, clock.advance(timedelta(days=7)))
    refresh(stripe, holder)

    payment = db.exec(select(Payment).where(Payment.rental_id == rental["id"])).one()
    assert (payment.status, payment.last_error_code, payment.attempts) == ("failed", "generic_decline", 1)
    assert payment.next_attempt_at == clock.now + timedelta(hours=1)
    settle(stripe_app, db, clock.now + timedelta(minutes=30))
    assert len(intents(standin, rental["id"])) == 1
    settle(stripe_app, db, clock.now + timedelta(hours=1))
    assert len(intents(standin, rental["id"])) == 2  # a new attempt, with a new idempotency key


def test_a_crash_between_the_charge_and_the_commit_charges_once(
    stripe_app, stripe, sms, standin, db, merchant, clock
):
    holder = h.resident(stripe, sms, standin)
    rental = h.open_rental(stripe, merchant, h.verification(stripe, holder, merchant)["id"]).json()
    clock.advance(timedelta(hours=5))
    refresh(stripe, holder)
    stripe.post(
        f"/v1/rentals/{rental['id']}/default", json={"evidence": EVIDENCE}, headers=merchant["headers"]
    )
    crypto, settings = stripe_app.state.crypto, stripe_app.state.settings
    defaults.end_dispute_window(db, crypto, settings, rental["id"], clock.advance(timedelta(days=7)))
    refresh(stripe, holder)
    db.commit()  # the collection row is written (and committed) before any charge
    payment_id = db.exec(select(Payment.id).where(Payment.rental_id == rental["id"])).one()

    provider = payments_service.provider_for(settings, db)
    with db.begin_nested() as step:  # the charge succeeds at Stripe, then the process dies
        payment = payments_service.lock_payment(db, payment_id)
        assert payment is not None
        payment_collections.attempt_collection(db, provider, payment, clock.now)
        step.rollback()
    assert [i["status"] for i in intents(standin, rental["id"])] == ["succeeded"]
    assert db.get(Payment, payment_id).status == "pending"  # type: ignore[union-attr]

    settle(stripe_app, db, clock.now)  # the next run asks again with the same key

    assert len(intents(standin, rental["id"])) == 1
    payment = db.get(Payment, payment_id)
    assert payment is not None and (payment.status, payment.captured_fen) == ("succeeded", 9900)
    keys = [k for m, p, k in standin.requests if p == "/v1/payment_intents" and m == "POST"]
    assert keys.count(f"xinyi-collect-{payment_id}-1") == 2


def test_a_crash_between_the_hold_and_the_commit_is_claimed_by_the_retry(
    stripe, sms, standin, db, merchant, monkeypatch
):
    holder = h.resident(stripe, sms, standin)
    h.lower_to_c(stripe, db, holder)
    verification = h.verification(stripe, holder, merchant)
    due = (utcnow() + timedelta(hours=3)).isoformat()
    real = payments_service.place_hold

    def killed(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("killed between the Stripe call and the commit")

    monkeypatch.setattr(payments_service, "place_hold", killed)
    crashed = h.open_rental(stripe, merchant, verification["id"], key="k1", due_at=due)
    assert crashed.status_code == 500
    assert db.exec(select(func.count()).select_from(Payment)).one() == 0
    [orphan] = [
        i for i in standin.intents.values() if i["metadata"].get("xinyi_verification") == verification["id"]
    ]
    assert orphan["status"] == "requires_capture"

    monkeypatch.setattr(payments_service, "place_hold", real)
    retried = h.open_rental(stripe, merchant, verification["id"], key="k1", due_at=due)

    assert retried.status_code == 201, retried.text
    assert len(intents(standin, retried.json()["id"])) == 1
    payment = db.exec(select(Payment)).one()
    assert payment.provider_intent_id == orphan["id"]


def test_reconcile_releases_a_hold_left_by_a_crash_once_its_verification_expired(
    stripe_app, stripe, sms, standin, db, merchant, monkeypatch
):
    holder = h.resident(stripe, sms, standin)
    h.lower_to_c(stripe, db, holder)
    verification = h.verification(stripe, holder, merchant)
    real = payments_service.place_hold

    def killed(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("killed between the Stripe call and the commit")

    monkeypatch.setattr(payments_service, "place_hold", killed)
    assert h.open_rental(stripe, merchant, verification["id"]).status_code == 500
    [orphan] = [
        i for i in standin.intents.values() if i["metadata"].get("xinyi_verification") == verification["id"]
    ]
    provider = payments_service.provider_for(stripe_app.state.settings, db)

    early = reconciliation.reconcile(db, provider, now=utcnow(), lookback=timedelta(hours=1))
    assert (early.waiting, early.orphan_holds_released, orphan["status"]) == (
        [orphan["id"]],
        [],
        "requires_capture",
    )

    later = reconciliation.reconcile(
        db, provider, now=utcnow() + timedelta(minutes=11), lookback=timedelta(hours=1)
    )

    assert later.orphan_holds_released == [orphan["id"]]
    assert orphan["status"] == "canceled"
    again = reconciliation.reconcile(
        db, provider, now=utcnow() + timedelta(minutes=12), lookback=timedelta(hours=1)
    )
    assert again.orphan_holds_released == []


def test_reconcile_brings_a_row_up_to_date_when_a_response_was_lost(
    stripe_app, stripe, sms, standin, db, merchant
):
    holder = h.resident(stripe, sms, standin)
    h.lower_to_c(stripe, db, holder)
    rental = h.open_rental(stripe, merchant, h.verification(stripe, holder, merchant)["id"]).json()
    [intent] = intents(standin, rental["id"])
    intent.update(status="canceled", amount_capturable=0)  # cancelled at Stripe; we never heard
    provider = payments_service.provider_for(stripe_app.state.settings, db)

    report = reconciliation.reconcile(db, provider, now=utcnow(), lookback=timedelta(hours=1))

    assert report.rows_synced == ["pay_" + rental["id"].removeprefix("rnt_")]
    assert stripe.get(f"/v1/rentals/{rental['id']}", headers=merchant["headers"]).json()["hold"][
        "status"
    ] == ("released")


def test_an_operator_refunds_part_of_a_collection(stripe_app, stripe, sms, standin, db, merchant, clock):
    holder = h.resident(stripe, sms, standin)
    rental = h.open_rental(stripe, merchant, h.verification(stripe, holder, merchant)["id"]).json()
    clock.advance(timedelta(hours=5))
    refresh(stripe, holder)
    stripe.post(
        f"/v1/rentals/{rental['id']}/default", json={"evidence": EVIDENCE}, headers=merchant["headers"]
    )
    settle(stripe_app, db, clock.advance(timedelta(days=7)))
    refresh(stripe, holder)
    operator = make_operator(stripe, sms, db)  # signs in when there is something to do
    payment = db.exec(select(Payment).where(Payment.rental_id == rental["id"])).one()

    refund = stripe.post(
        f"/v1/admin/payments/{payment.id}/refunds",
        json={"amount_fen": 4000, "reason": "商户确认部分损失已追回"},
        headers=operator["headers"],
    )

    assert refund.status_code == 201, refund.text
    assert [(r["amount"], r["status"]) for r in standin.refunds.values()] == [(4000, "succeeded")]
    too_much = stripe.post(
        f"/v1/admin/payments/{payment.id}/refunds",
        json={"amount_fen": 6000, "reason": "x"},
        headers=operator["headers"],
    )
    assert too_much.json()["code"] == "refund_too_large"
    h.deliver(stripe, standin)
    db.refresh(payment)
    assert payment.refunded_fen == 4000


def test_webhooks_with_a_bad_signature_are_refused_and_replays_are_processed_once(stripe, sms, standin, db):
    holder = passes.resident(stripe, sms)
    setup = stripe.post("/v1/me/payment-method/setup", headers=holder["headers"]).json()
    standin.confirm_setup(setup["id"], "pm_card_visa")
    [delivery] = standin.take_events()
    snapshot = table_snapshot(db)

    def post(payload: str, signature: str):
        return stripe.post("/v1/stripe/webhook", content=payload, headers={"Stripe-Signature": signature})

    forged = standin.sign(delivery.payload, secret="whsec_someone_else")
    tampered = delivery.payload.replace("pm_card_visa", "pm_card_other")
    stale = standin.sign(delivery.payload, timestamp=int(utcnow().timestamp()) - 301)
    for payload, signature in (
        (delivery.payload, forged),
        (tampered, delivery.signature),
        (delivery.payload, stale),
        (delivery.payload, "garbage"),
        (delivery.payload, ""),
    ):
        response = post(payload, signature)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_stripe_signature")
    assert table_snapshot(db) == snapshot

    assert post(delivery.payload, delivery.signature).json() == {"received": True, "duplicate": False}
    replay = post(delivery.payload, delivery.signature)
    assert replay.json() == {"received": True, "duplicate": True}
    resigned = post(delivery.payload, standin.sign(delivery.payload))  # Stripe's own retry, signed anew
    assert resigned.json()["duplicate"] is True
    rows = db.exec(select(StripeEvent)).all()
    assert [(r.id, r.attempts) for r in rows] == [(json.loads(delivery.payload)["id"], 1)]


def test_without_a_webhook_secret_every_delivery_is_refused(client, db):
    snapshot = table_snapshot(db)
    body = json.dumps(
        {"id": "evt_1", "object": "event", "type": "setup_intent.succeeded", "data": {"object": {}}}
    )
    response = client.post("/v1/stripe/webhook", content=body, headers={"Stripe-Signature": "t=1,v1=00"})
    assert (response.status_code, response.json()["code"]) == (503, "stripe_webhooks_disabled")
    assert table_snapshot(db) == snapshot
