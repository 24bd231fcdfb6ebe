"""Defaults: the dispute window, the negative record and rescore in one transaction, collection from the
hold and off-session, disputes upheld and rejected — with the embedded provider."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from app.payments import collections as payment_collections
from app.payments import service as payments_service
from app.payments.models import LocalPaymentObject, Payment
from app.records.models import CreditRecord
from app.rentals import defaults
from tests.helpers import refresh, table_snapshot
from tests.passes import helpers as passes
from tests.records.helpers import make_operator
from tests.rentals import helpers as h

EVIDENCE = {
    "description": "充电宝逾期 3 天未归还，柜机无归还记录",
    "photo_urls": ["https://kiosk.example/p/1.jpg"],
}


def settle(app: Any, db: Session, now: datetime) -> None:
    """What the worker's rental jobs do, in the test's transaction."""
    settings, crypto = app.state.settings, app.state.crypto
    for rental_id in defaults.due_defaults(db, now):
        defaults.end_dispute_window(db, crypto, settings, rental_id, now)
    provider = payments_service.provider_for(settings, db)
    for rental_id in defaults.holds_to_capture(db):
        defaults.capture_for_default(db, provider, rental_id)
    for payment_id in payment_collections.due_collections(db, now):
        payment = payments_service.lock_payment(db, payment_id)
        assert payment is not None
        payment_collections.attempt_collection(db, provider, payment, now)
    db.commit()


def overdue_rental(client, sms, merchant, clock: h.Clock, deposit_fen: int = 15000) -> tuple[dict, dict]:
    holder = h.resident(client, sms)
    rental = h.open_rental(
        client, merchant, h.verification(client, holder, merchant)["id"], deposit_fen=deposit_fen
    )
    assert rental.status_code == 201, rental.text
    clock.advance(timedelta(hours=5))  # due in 4 hours
    refresh(client, holder)
    return holder, rental.json()


def report(client, merchant, rental_id: str, **body: Any):
    return client.post(
        f"/v1/rentals/{rental_id}/default", json={"evidence": EVIDENCE, **body}, headers=merchant["headers"]
    )


def test_an_undisputed_default_becomes_a_negative_record_lowers_the_score_and_is_collected(
    app, client, sms, db, merchant, clock
):
    holder, rental = overdue_rental(client, sms, merchant, clock)
    before = h.score(client, holder)

    reported = report(client, merchant, rental["id"])

    assert reported.status_code == 200, reported.text
    assert reported.json()["status"] == "default_reported"
    assert reported.json()["default"]["amount_fen"] == 15000
    mine = client.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    assert mine["status"] == "default_reported"
    window_end = datetime.fromisoformat(mine["can_dispute_until"])
    assert window_end == clock.now + timedelta(days=7)
    log = client.get("/v1/me/access-log", headers=holder["headers"]).json()["data"]
    assert log[0]["action"] == "rental.default_reported"
    assert mine["record_id"] is None
    assert h.score(client, holder)["score"] == before["score"]  # nothing counts during the window

    settle(app, db, clock.advance(timedelta(days=6)))
    refresh(client, holder)
    assert client.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()["status"] == (
        "default_reported"
    )

    settle(app, db, clock.advance(timedelta(days=1)))
    refresh(client, holder)

    mine = client.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    assert mine["status"] == "defaulted"
    record = db.exec(select(CreditRecord).where(CreditRecord.id == mine["record_id"])).one()
    assert (record.outcome, record.severity) == ("defaulted", "minor")
    after = h.score(client, holder)
    assert after["score"] < before["score"]
    assert "platform_rental.defaulted.minor" in h.reason_codes(after)
    # Collected: the 51 元 hold captured, the 99 元 waived part charged off-session.
    assert mine["hold"] == {"status": "captured", "amount_fen": 5100, "taken_fen": 5100}
    assert mine["collection"] == {"status": "succeeded", "amount_fen": 9900, "taken_fen": 9900}
    ledger = db.exec(
        select(LocalPaymentObject).where(LocalPaymentObject.object_type == "payment_intent")
    ).all()
    assert sorted((o.capture_method, o.status, o.amount_received_fen) for o in ledger) == [
        ("automatic", "succeeded", 9900),
        ("manual", "succeeded", 5100),
    ]
    # The open default now refuses the next deposit-free rental.
    again = h.verification(client, holder, merchant)
    assert (again["decision"], again["reason"]) == ("not_eligible", "open_default")


def test_the_dispute_window_is_configurable(app, client, sms, db, merchant, clock):
    app.state.settings = app.state.settings.model_copy(update={"rental_dispute_window_days": 3})
    _, rental = overdue_rental(client, sms, merchant, clock)

    reported = report(client, merchant, rental["id"]).json()

    assert datetime.fromisoformat(reported["default"]["dispute_window_ends_at"]) == clock.now + timedelta(
        days=3
    )


def test_an_upheld_dispute_leaves_no_record_and_no_charge(app, client, sms, db, merchant, clock):
    holder, rental = overdue_rental(client, sms, merchant, clock)
    operator = make_operator(client, sms, db)
    before = h.score(client, holder)["score"]
    report(client, merchant, rental["id"])

    disputed = client.post(
        f"/v1/me/rentals/{rental['id']}/dispute", json={"reason": "我已在柜机归还"}, headers=holder["headers"]
    )
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["status"] == "disputed"
    settle(app, db, clock.advance(timedelta(days=8)))  # a dispute stops the window
    refresh(client, holder)
    refresh(client, operator)
    assert (
        client.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()["status"] == "disputed"
    )

    resolved = client.post(
        f"/v1/admin/rentals/{rental['id']}/dispute-resolution",
        json={"outcome": "upheld", "note": "柜机日志显示已归还"},
        headers=operator["headers"],
    )

    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert (body["status"], body["record_id"], body["collection"]) == ("dispute_upheld", None, None)
    assert body["hold"]["status"] == "released"
    assert h.score(client, holder)["score"] == before
    assert (
        db.exec(select(Payment).where(Payment.rental_id == rental["id"], Payment.kind == "collection")).all()
        == []
    )


def test_a_rejected_dispute_writes_the_record_at_once(app, client, sms, db, merchant, clock):
    holder, rental = overdue_rental(client, sms, merchant, clock, deposit_fen=9900)
    operator = make_operator(client, sms, db)
    before = h.score(client, holder)["score"]
    report(client, merchant, rental["id"], amount_fen=5000)
    client.post(
        f"/v1/me/rentals/{rental['id']}/dispute", json={"reason": "不是我"}, headers=holder["headers"]
    )

    resolved = client.post(
        f"/v1/admin/rentals/{rental['id']}/dispute-resolution",
        json={"outcome": "rejected", "note": "无归还记录"},
        headers=operator["headers"],
    ).json()

    assert resolved["status"] == "defaulted"
    assert resolved["record_id"] is not None
    assert h.score(client, holder)["score"] < before
    assert resolved["collection"] == {"status": "pending", "amount_fen": 5000, "taken_fen": 0}
    settle(app, db, clock.now)
    mine = client.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    assert mine["collection"]["status"] == "succeeded"


def test_default_rules_refuse_and_change_nothing(app, client, sms, db, merchant, clock):
    holder = h.resident(client, sms)
    rental = h.open_rental(client, merchant, h.verification(client, holder, merchant)["id"]).json()
    other = passes.partner(db, "merchant")
    passes.touch(client, other)
    passes.touch(client, merchant)
    snapshot = table_snapshot(db)

    assert report(client, merchant, rental["id"]).json()["code"] == "rental_not_overdue"
    assert table_snapshot(db) == snapshot
    # five hours on, overdue: the partners' keys and the resident's sign-in are used again first
    clock.advance(timedelta(hours=5))
    refresh(client, holder)
    passes.touch(client, other)
    passes.touch(client, merchant)
    snapshot = table_snapshot(db)
    assert report(client, other, rental["id"]).json()["code"] == "rental_not_found"
    assert report(client, merchant, rental["id"], amount_fen=9901).json()["code"] == "invalid_default_amount"
    assert report(client, merchant, rental["id"], amount_fen=0).json()["code"] == "invalid_request"
    not_yet = client.post(
        f"/v1/me/rentals/{rental['id']}/dispute", json={"reason": "x"}, headers=holder["headers"]
    )
    assert not_yet.json()["code"] == "rental_not_disputable"
    assert table_snapshot(db) == snapshot


def test_report_and_dispute_are_idempotent_and_the_window_closes(app, client, sms, db, merchant, clock):
    holder, rental = overdue_rental(client, sms, merchant, clock)
    first = report(client, merchant, rental["id"]).json()
    assert report(client, merchant, rental["id"], amount_fen=100).json() == first  # one default per rental

    clock.advance(timedelta(days=7))
    refresh(client, holder)
    late = client.post(
        f"/v1/me/rentals/{rental['id']}/dispute", json={"reason": "x"}, headers=holder["headers"]
    )

    assert (late.status_code, late.json()["code"]) == (409, "dispute_window_closed")


def test_a_return_during_the_window_withdraws_the_default(app, client, sms, db, merchant, clock):
    holder, rental = overdue_rental(client, sms, merchant, clock)
    report(client, merchant, rental["id"])

    returned = client.post(f"/v1/rentals/{rental['id']}/return", headers=merchant["headers"]).json()

    assert (returned["status"], returned["returned_on_time"]) == ("returned", False)
    assert returned["hold"]["status"] == "released"
    settle(app, db, clock.advance(timedelta(days=8)))
    refresh(client, holder)
    mine = client.get(f"/v1/me/rentals/{rental['id']}", headers=holder["headers"]).json()
    assert (mine["status"], mine["record_id"]) == ("returned", None)
