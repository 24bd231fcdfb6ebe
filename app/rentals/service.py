"""信易租: the rules of a rental, from the single-use verification to its return or default (the default
and its dispute: :mod:`app.rentals.defaults`). Never commits.

Open. A merchant opens a rental on a ``deposit_free_rental`` verification of its own, eligible or not,
used once and before it expires. When eligible, the deposit is waived up to the scenario's cap for the
item kind (``credit_amount``) and any excess is held on the resident's card (``fund_amount``); when not,
the whole deposit is held. The resident needs a saved payment method either way: it is what a default is
collected from. Every refusal happens before the hold and changes nothing.

Return. Closes the rental and releases the hold; on time, it writes a positive platform-behaviour record
(the score rises in the same transaction).

Default. After the due time the merchant reports a default with evidence (and what it costs, at most the
deposit). The resident is notified (the rental shows it, their access log records it) and has a dispute
window (7 days, ``XINYI_RENTAL_DISPUTE_WINDOW_DAYS``). Undisputed at the window's end, or a dispute
rejected by an operator: the rental is defaulted — a negative record is written and the subject rescored
in the same transaction, and the collection is written to be taken after the commit (first from the
hold, the rest off-session from the saved card). A dispute upheld: no record, no charge, hold released.

Open, return, default and dispute are idempotent: asking again for what already happened answers with
the rental as it is, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.security import Crypto
from app.payments import service as payments_service
from app.payments.models import Payment
from app.payments.provider import PaymentsProvider
from app.records import platform as platform_records
from app.rentals.models import ACTIVE, Rental, RentalStatus
from app.scenarios.catalog import Catalog
from app.verifications.models import Verification

SCENARIO = "deposit_free_rental"
MAX_RENTAL_DAYS = 90
SYSTEM_ACTOR = Principal(type="system", id="rentals")
_GROUNDS = audit_service.Grounds(
    purpose="deposit-free rental (信易租)", legal_basis=payments_service.LEGAL_BASIS
)


@dataclass(frozen=True)
class OpenRequest:
    verification_id: str
    item_kind: str
    item_reference: str | None
    deposit_fen: int
    due_at: datetime


def rental_id_for(verification_id: str) -> str:
    return "rnt_" + verification_id.split("_", 1)[-1]


def audit(session: Session, actor: Principal, rental: Rental, action: str, **details: Any) -> None:
    _GROUNDS.record(
        session,
        actor,
        action,
        {"rental_id": rental.id, "partner_id": rental.partner_id, **details},
        subject_id=rental.subject_id,
    )


def touch(session: Session, rental: Rental, now: datetime) -> Rental:
    rental.updated_at = now
    session.add(rental)
    session.flush()
    return rental


# --- open ---------------------------------------------------------------------------------------------


def _verification_for(
    session: Session, partner: Principal, verification_id: str, now: datetime
) -> Verification:
    verification = session.get(Verification, verification_id)
    if verification is None or verification.partner_id != partner.id:
        raise NotFound(
            "No verification of yours has this id.", code="verification_not_found", param="verification_id"
        )
    if verification.scenario != SCENARIO:
        raise InvalidInput(
            f"A rental needs a {SCENARIO} verification, not {verification.scenario}.",
            code="verification_wrong_scenario",
            param="verification_id",
        )
    if now >= verification.expires_at:
        raise Conflict(
            "The verification has expired; scan a fresh pass.",
            code="verification_expired",
            param="verification_id",
        )
    return verification


def open_rental(
    session: Session,
    provider: PaymentsProvider,
    settings: Settings,
    catalog: Catalog,
    partner: Principal,
    request: OpenRequest,
    now: datetime | None = None,
) -> Rental:
    now = now or utcnow()
    verification = _verification_for(session, partner, request.verification_id, now)
    rental_id = rental_id_for(verification.id)
    if session.get(Rental, rental_id) is not None:
        raise Conflict(
            "This verification already opened a rental.",
            code="verification_already_used",
            param="verification_id",
        )
    scenario = catalog[SCENARIO]
    caps = scenario.benefit.waived_deposit_fen or {}
    if request.item_kind not in caps:
        raise InvalidInput(
            f"item.kind: one of {', '.join(sorted(caps))}.", code="unknown_item_kind", param="item.kind"
        )
    if not now < request.due_at <= now + timedelta(days=MAX_RENTAL_DAYS):
        raise InvalidInput(
            f"due_at: after now and at most {MAX_RENTAL_DAYS} days ahead.",
            code="invalid_due_at",
            param="due_at",
        )
    eligible = verification.decision == "eligible"
    credit = min(request.deposit_fen, caps[request.item_kind]) if eligible else 0
    if credit > 0 and scenario.benefit.max_items is not None:
        waived_open = session.exec(
            select(func.count())
            .select_from(Rental)
            .where(
                Rental.subject_id == verification.subject_id,
                col(Rental.status).in_([s.value for s in ACTIVE]),
                col(Rental.credit_amount_fen) > 0,
            )
        ).one()
        if waived_open >= scenario.benefit.max_items:
            raise Conflict(
                f"The resident already has {waived_open} deposit-free rental(s) open, the most allowed.",
                code="deposit_free_limit_reached",
            )
    payments_service.require_method(session, verification.subject_id)
    rental = Rental(
        id=rental_id,
        partner_id=partner.id,
        subject_id=verification.subject_id,
        verification_id=verification.id,
        item_kind=request.item_kind,
        item_reference=request.item_reference,
        deposit_fen=request.deposit_fen,
        credit_amount_fen=credit,
        fund_amount_fen=request.deposit_fen - credit,
        opened_at=now,
        due_at=request.due_at,
        updated_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent open of the same verification stops here, before any hold
            session.add(rental)
    except IntegrityError:
        raise Conflict(
            "This verification already opened a rental.",
            code="verification_already_used",
            param="verification_id",
        ) from None
    audit(
        session,
        partner,
        rental,
        "rental.opened",
        verification_id=verification.id,
        item_kind=rental.item_kind,
        deposit_fen=rental.deposit_fen,
        credit_amount=credit,
        fund_amount=rental.fund_amount_fen,
    )
    if rental.fund_amount_fen > 0:
        # Last: the provider call. A crash after it leaves a hold the reconciliation releases.
        hold = payments_service.place_hold(
            session,
            provider,
            settings,
            subject_id=rental.subject_id,
            rental_id=rental.id,
            verification_id=verification.id,
            amount_fen=rental.fund_amount_fen,
        )
        rental.hold_payment_id = hold.id
        touch(session, rental, now)
    return rental


# --- reading ------------------------------------------------------------------------------------------


def lock_rental(session: Session, rental_id: str) -> Rental | None:
    statement = select(Rental).where(Rental.id == rental_id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()


def _not_found() -> NotFound:
    return NotFound("No rental of yours has this id.", code="rental_not_found", param="rental_id")


def for_partner(session: Session, partner: Principal, rental_id: str, lock: bool = False) -> Rental:
    rental = lock_rental(session, rental_id) if lock else session.get(Rental, rental_id)
    if rental is None or rental.partner_id != partner.id:
        raise _not_found()
    return rental


def for_resident(session: Session, resident: Principal, rental_id: str, lock: bool = False) -> Rental:
    rental = lock_rental(session, rental_id) if lock else session.get(Rental, rental_id)
    if rental is None or resident.subject_id is None or rental.subject_id != resident.subject_id:
        raise _not_found()
    return rental


def list_for_partner(
    session: Session,
    partner: Principal,
    params: PageParams,
    status: str | None = None,
    *,
    overdue: bool = False,
) -> tuple[list[Rental], bool]:
    """``overdue``: only rentals still open past their due time (the ones a default may be reported on)."""
    statement = select(Rental).where(Rental.partner_id == partner.id)
    if status is not None:
        statement = statement.where(Rental.status == status)
    if overdue:
        statement = statement.where(Rental.status == RentalStatus.open, col(Rental.due_at) < utcnow())
    return fetch_page(session, statement, Rental.id, params)


def list_for_resident(
    session: Session, resident: Principal, params: PageParams, status: str | None = None
) -> tuple[list[Rental], bool]:
    if resident.subject_id is None:
        return [], False
    statement = select(Rental).where(Rental.subject_id == resident.subject_id)
    if status is not None:
        statement = statement.where(Rental.status == status)
    return fetch_page(session, statement, Rental.id, params)


def payments_of(session: Session, rental: Rental) -> tuple[Payment | None, Payment | None]:
    hold = session.get(Payment, rental.hold_payment_id) if rental.hold_payment_id else None
    collection = session.get(Payment, rental.collection_payment_id) if rental.collection_payment_id else None
    return hold, collection


# --- return ---------------------------------------------------------------------------------------------


def return_rental(
    session: Session,
    provider: PaymentsProvider,
    crypto: Crypto,
    partner: Principal,
    rental_id: str,
    now: datetime | None = None,
) -> Rental:
    """Close the rental. Returned again: the same answer. A return while a default is pending (the item
    came back after all) withdraws the default: no record either way, the hold is released."""
    now = now or utcnow()
    rental = for_partner(session, partner, rental_id, lock=True)
    if rental.status == RentalStatus.returned:
        return rental
    if rental.status not in ACTIVE:
        raise Conflict(f"The rental is {rental.status}; it cannot be returned.", code="rental_closed")
    withdrawn = rental.status != RentalStatus.open
    rental.status = RentalStatus.returned
    rental.returned_at = now
    rental.returned_on_time = now <= rental.due_at
    touch(session, rental, now)
    audit(
        session,
        partner,
        rental,
        "rental.returned",
        on_time=rental.returned_on_time,
        default_withdrawn=withdrawn,
    )
    if rental.returned_on_time:
        record = platform_records.write(
            session,
            crypto,
            partner,
            platform_records.PlatformRecord(
                source_record_id=f"{rental.id}.returned",
                subject_id=rental.subject_id,
                category="platform_rental",
                outcome="returned_on_time",
                title=f"信易租按时归还（{rental.item_kind}）",
            ),
        )
        rental.record_id = record.id
        touch(session, rental, now)
    release_hold(session, provider, rental)  # last: the provider call
    return rental


def release_hold(session: Session, provider: PaymentsProvider, rental: Rental) -> None:
    hold, _ = payments_of(session, rental)
    if hold is not None:
        payments_service.release_hold(session, provider, hold)
