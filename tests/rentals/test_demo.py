"""The demo city shows every rental flow with the embedded provider, once."""

from __future__ import annotations

from sqlmodel import col, select

from app.accounts.models import User
from app.core.security import Crypto
from app.payments.models import Payment
from app.records.models import CreditRecord
from app.records.platform import PLATFORM_SOURCE
from demo.city import load


def test_the_demo_merchant_has_a_waived_a_held_and_a_defaulted_rental(db, settings, monkeypatch):
    monkeypatch.setattr("app.core.config.get_settings", lambda: settings)

    summary = load(db, Crypto(settings))

    assert [(r.who, r.status) for r in summary.rentals] == [
        ("张伟", "returned"),
        ("李娜", "returned"),
        ("王芳", "defaulted"),
    ]
    # The demo residents' own rows: other tests (the browser tests) commit rentals of their own
    subjects = [db.get(User, user_id).subject_id for _, user_id in summary.residents]
    payments = db.exec(
        select(Payment.kind, Payment.status, Payment.captured_fen).where(
            col(Payment.subject_id).in_(subjects)
        )
    ).all()
    assert sorted(payments) == [("collection", "succeeded", 9900), ("deposit_hold", "released", 0)]
    outcomes = db.exec(
        select(CreditRecord.outcome).where(
            CreditRecord.source == PLATFORM_SOURCE, col(CreditRecord.subject_id).in_(subjects)
        )
    ).all()
    assert sorted(outcomes) == ["defaulted", "returned_on_time", "returned_on_time"]
    assert load(db, Crypto(settings)).rentals == []  # loaded once
