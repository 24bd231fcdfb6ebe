"""The demo city's rentals at 天山共享充电宝, loaded once (``xinyi demo load``), with the embedded provider:

- 张伟 (eligible) rented a power bank with the deposit waived and returned it on time: a positive
  platform-behaviour record on his score;
- 李娜 (not eligible) rented one with a real 99 元 hold, released when she returned it;
- 王芳 kept one past its due time; the merchant reported the default, the 7-day dispute window ended
  undisputed: a negative record lowered her score and the 99 元 was collected from her saved card.

Each flow goes through the same service functions as the API, dated in the past so the story is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.ids import new_id
from app.core.principal import Principal
from app.core.security import Crypto
from app.payments import collections as payment_collections
from app.payments import service as payments_service
from app.rentals import defaults, service
from app.rentals.models import Rental
from app.scenarios import service as scenarios_service
from app.scenarios.catalog import default_catalog
from app.verifications import service as verifications_service

DEPOSIT_FEN = 9900


@dataclass(frozen=True)
class DemoRental:
    who: str
    rental_id: str
    status: str
    story: str


def _open(
    session: Session, settings: Settings, merchant: Principal, subject_id: str, kiosk: str, at: datetime
) -> Rental:
    catalog = default_catalog()
    scenario = catalog[service.SCENARIO]
    evaluation = scenarios_service.evaluate(scenario, scenarios_service.subject_standing(session, subject_id))
    verification = verifications_service.record(
        session,
        merchant,
        subject_id=subject_id,
        pass_id=new_id("pas"),  # a pass of its own: an online pass is verified once
        scenario=scenario,
        evaluation=evaluation,
        mode="online",
        now=at,
    )
    provider = payments_service.provider_for(settings, session)
    return service.open_rental(
        session,
        provider,
        settings,
        catalog,
        merchant,
        service.OpenRequest(verification.id, "power_bank", kiosk, DEPOSIT_FEN, at + timedelta(hours=4)),
        now=at,
    )


def load(
    session: Session,
    crypto: Crypto,
    settings: Settings,
    merchant: Principal,
    residents: list[tuple[str, str]],
) -> list[DemoRental]:
    """``residents``: (name, subject id) of 张伟, 李娜, 王芳. Does nothing when the merchant has rentals
    already, or when a Stripe key is set (a real card cannot be saved without the app)."""
    if payments_service.provider_name(settings) != "local":
        return []
    if session.exec(select(Rental.id).where(Rental.partner_id == merchant.id)).first() is not None:
        return []
    provider = payments_service.provider_for(settings, session)
    for _, subject_id in residents:
        payments_service.start_setup(
            session, provider, Principal(type="user", id="demo-loader", subject_id=subject_id)
        )
    (zhang, zhang_id), (li, li_id), (wang, wang_id) = residents
    now = utcnow()
    loaded = []

    first = _open(session, settings, merchant, zhang_id, "TS-PB-0001", now - timedelta(days=3))
    service.return_rental(
        session, provider, crypto, merchant, first.id, now=now - timedelta(days=3, hours=-2)
    )
    loaded.append(DemoRental(zhang, first.id, first.status, "deposit waived, returned on time"))

    second = _open(session, settings, merchant, li_id, "TS-PB-0002", now - timedelta(days=2))
    service.return_rental(
        session, provider, crypto, merchant, second.id, now=now - timedelta(days=2, hours=-1)
    )
    held = "99 元 held, released on return" if second.fund_amount_fen else "deposit waived, returned on time"
    loaded.append(DemoRental(li, second.id, second.status, held))

    third = _open(session, settings, merchant, wang_id, "TS-PB-0003", now - timedelta(days=12))
    defaults.report_default(
        session,
        settings,
        merchant,
        third.id,
        amount_fen=None,
        evidence={"description": "充电宝逾期未归还，柜机无归还记录", "photo_urls": []},
        now=now - timedelta(days=11),
    )
    defaults.end_dispute_window(session, crypto, settings, third.id, now)  # the window ended undisputed
    defaults.capture_for_default(session, provider, third.id)
    for payment_id in payment_collections.due_collections(session, now):
        payment = payments_service.lock_payment(session, payment_id)
        if payment is not None:
            payment_collections.attempt_collection(session, provider, payment, now)
    loaded.append(
        DemoRental(wang, third.id, third.status, "default undisputed: negative record, 99 元 collected")
    )
    return loaded
