"""Opening and returning rentals with the embedded provider (no Stripe key): the waiver split, the hold,
the positive record, idempotency, and every refusal changing nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from app.core.clock import utcnow
from app.payments.models import LocalPaymentObject
from app.records.models import CreditRecord
from tests.helpers import table_snapshot
from tests.passes import helpers as passes
from tests.rentals import helpers as h


def test_an_eligible_resident_rents_with_the_deposit_waived_and_a_return_writes_a_positive_record(
    client, sms, db, merchant
):
    holder = h.resident(client, sms)
    before = h.score(client, holder)["score"]
    verification = h.verification(client, holder, merchant)
    assert verification["decision"] == "eligible"

    opened = h.open_rental(client, merchant, verification["id"])

    assert opened.status_code == 201, opened.text
    rental = opened.json()
    assert rental["status"] == "open"
    assert (rental["deposit_fen"], rental["credit_amount"], rental["fund_amount"]) == (9900, 9900, 0)
    assert rental["hold"] is None
    assert rental["subject"] == verification["subject"]
    assert rental["id"] == "rnt_" + verification["id"].removeprefix("ver_")

    returned = client.post(f"/v1/rentals/{rental['id']}/return", headers=merchant["headers"])

    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert returned.json()["returned_on_time"] is True
    mine = client.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    record = db.exec(select(CreditRecord).where(CreditRecord.id == mine["record_id"])).one()
    assert (record.category, record.outcome, record.subject_id) == (
        "platform_rental",
        "returned_on_time",
        holder["subject_id"],
    )
    after = h.score(client, holder)
    assert after["score"] > before
    assert "platform_rental.returned_on_time" in h.reason_codes(after)


def test_a_deposit_above_the_cap_is_split_and_the_excess_is_held_then_released(client, sms, db, merchant):
    holder = h.resident(client, sms)
    verification = h.verification(client, holder, merchant)

    opened = h.open_rental(client, merchant, verification["id"], deposit_fen=15000)

    assert opened.status_code == 201, opened.text
    rental = opened.json()
    assert (rental["credit_amount"], rental["fund_amount"]) == (9900, 5100)
    assert rental["hold"] == {"status": "held", "amount_fen": 5100, "taken_fen": 0}
    hold = db.exec(select(LocalPaymentObject).where(LocalPaymentObject.object_type == "payment_intent")).all()
    assert [(o.amount_fen, o.status, o.capture_method) for o in hold] == [
        (5100, "requires_capture", "manual")
    ]

    returned = client.post(f"/v1/rentals/{rental['id']}/return", headers=merchant["headers"]).json()

    assert returned["hold"] == {"status": "released", "amount_fen": 5100, "taken_fen": 0}
    db.refresh(hold[0])
    assert hold[0].status == "canceled"


def test_a_resident_who_is_not_eligible_rents_with_the_whole_deposit_held(client, sms, db, merchant):
    holder = h.resident(client, sms)
    h.lower_to_c(client, db, holder)
    verification = h.verification(client, holder, merchant)
    assert (verification["decision"], verification["reason"]) == ("not_eligible", "level_too_low")

    rental = h.open_rental(client, merchant, verification["id"]).json()

    assert (rental["credit_amount"], rental["fund_amount"]) == (0, 9900)
    assert rental["hold"]["status"] == "held"
    returned = client.post(f"/v1/rentals/{rental['id']}/return", headers=merchant["headers"]).json()
    assert returned["hold"]["status"] == "released"


def test_open_is_idempotent_with_its_key_and_a_verification_opens_one_rental(client, sms, db, merchant):
    holder = h.resident(client, sms)
    verification = h.verification(client, holder, merchant)
    due = (utcnow() + timedelta(hours=2)).isoformat()
    first = h.open_rental(client, merchant, verification["id"], deposit_fen=15000, key="open-1", due_at=due)

    replay = h.open_rental(client, merchant, verification["id"], deposit_fen=15000, key="open-1", due_at=due)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]

    again = h.open_rental(client, merchant, verification["id"], deposit_fen=15000, key="open-2")
    assert (again.status_code, again.json()["code"]) == (409, "verification_already_used")
    holds = db.exec(
        select(LocalPaymentObject).where(LocalPaymentObject.object_type == "payment_intent")
    ).all()
    assert len(holds) == 1


def test_return_is_idempotent(client, sms, db, merchant):
    holder = h.resident(client, sms)
    rental = h.open_rental(client, merchant, h.verification(client, holder, merchant)["id"]).json()
    first = client.post(f"/v1/rentals/{rental['id']}/return", headers=merchant["headers"])
    snapshot = table_snapshot(db)

    second = client.post(f"/v1/rentals/{rental['id']}/return", headers=merchant["headers"])

    assert second.status_code == 200
    assert second.json() == first.json()
    assert table_snapshot(db) == snapshot


def test_refusals_change_nothing(client, sms, db, merchant):
    holder = h.resident(client, sms)
    no_card = h.resident(client, sms, card=None)
    other = passes.partner(db, "merchant")
    verification = h.verification(client, holder, merchant)
    library = passes.verify(
        client, merchant, passes.issue(client, holder)["token"], scenario="library"
    ).json()
    card_less = h.verification(client, no_card, merchant)
    passes.touch(client, merchant)
    passes.touch(client, other)
    snapshot = table_snapshot(db)

    cases = [
        (h.open_rental(client, other, verification["id"]), 404, "verification_not_found"),
        (h.open_rental(client, merchant, "ver_NOPE"), 404, "verification_not_found"),
        (h.open_rental(client, merchant, library["id"]), 422, "verification_wrong_scenario"),
        (h.open_rental(client, merchant, verification["id"], kind="yacht"), 422, "unknown_item_kind"),
        (h.open_rental(client, merchant, verification["id"], deposit_fen=0), 422, "invalid_request"),
        (h.open_rental(client, merchant, verification["id"], deposit_fen=-5), 422, "invalid_request"),
        (
            h.open_rental(client, merchant, verification["id"], due_in=timedelta(hours=-1)),
            422,
            "invalid_due_at",
        ),
        (
            h.open_rental(client, merchant, verification["id"], due_in=timedelta(days=91)),
            422,
            "invalid_due_at",
        ),
        (h.open_rental(client, merchant, card_less["id"]), 409, "payment_method_required"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    no_key = client.post("/v1/rentals", json={}, headers=merchant["headers"])
    assert no_key.json()["code"] == "idempotency_key_required"
    assert table_snapshot(db) == snapshot


def test_an_expired_verification_cannot_open_a_rental(client, sms, db, merchant, pinned_clock):
    holder = h.resident(client, sms)
    verification = h.verification(client, holder, merchant)

    pinned_clock.shift(timedelta(seconds=601))

    response = h.open_rental(client, merchant, verification["id"], due_in=timedelta(hours=5))

    assert (response.status_code, response.json()["code"]) == (409, "verification_expired")


def test_one_deposit_free_rental_at_a_time(client, sms, db, merchant):
    holder = h.resident(client, sms)
    first = h.open_rental(client, merchant, h.verification(client, holder, merchant)["id"])
    assert first.status_code == 201

    second = h.open_rental(client, merchant, h.verification(client, holder, merchant)["id"])

    assert (second.status_code, second.json()["code"]) == (409, "deposit_free_limit_reached")
    client.post(f"/v1/rentals/{first.json()['id']}/return", headers=merchant["headers"])
    third = h.open_rental(client, merchant, h.verification(client, holder, merchant)["id"])
    assert third.status_code == 201, third.text
