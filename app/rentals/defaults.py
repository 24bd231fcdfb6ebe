"""信易租 defaults: the merchant's report, the resident's dispute window, an operator's resolution, and
what a default costs (a negative record, the hold captured, the rest collected). The rules in full:
:mod:`app.rentals.service`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.security import Crypto
from app.payments import collections as payment_collections
from app.payments import service as payments_service
from app.payments.models import Payment
from app.payments.provider import PaymentsProvider
from app.records import platform as platform_records
from app.rentals.models import Rental, RentalStatus
from app.rentals.service import (
    SYSTEM_ACTOR,
    audit,
    for_partner,
    for_resident,
    lock_rental,
    payments_of,
    release_hold,
    touch,
)

# Severity of a defaulted rental's record, by what the default cost (fen): a power bank or a bike is
# minor, small equipment general, anything dearer serious.
_SEVERITY_LIMITS = ((20_000, "minor"), (100_000, "general"))


def report_default(
    session: Session,
    settings: Settings,
    partner: Principal,
    rental_id: str,
    *,
    amount_fen: int | None,
    evidence: dict[str, Any],
    now: datetime | None = None,
) -> Rental:
    now = now or utcnow()
    rental = for_partner(session, partner, rental_id, lock=True)
    if rental.status in {RentalStatus.default_reported, RentalStatus.disputed, RentalStatus.defaulted}:
        return rental  # already reported: one default per rental
    if rental.status != RentalStatus.open:
        raise Conflict(f"The rental is {rental.status}; there is nothing to default.", code="rental_closed")
    if now <= rental.due_at:
        raise Conflict("The rental is not overdue yet.", code="rental_not_overdue", param="rental_id")
    amount = rental.deposit_fen if amount_fen is None else amount_fen
    if not 0 < amount <= rental.deposit_fen:
        raise InvalidInput(
            f"amount_fen: more than 0 and at most the deposit ({rental.deposit_fen} fen).",
            code="invalid_default_amount",
            param="amount_fen",
        )
    rental.status = RentalStatus.default_reported
    rental.default_reported_at = now
    rental.default_amount_fen = amount
    rental.default_evidence = evidence
    rental.dispute_window_ends_at = now + timedelta(days=settings.rental_dispute_window_days)
    rental.resident_notified_at = now  # the rental shows it to the resident; the audit log records it
    touch(session, rental, now)
    audit(
        session,
        partner,
        rental,
        "rental.default_reported",
        amount_fen=amount,
        dispute_window_ends_at=rental.dispute_window_ends_at.isoformat(),
    )
    return rental


def dispute(
    session: Session, resident: Principal, rental_id: str, reason: str, now: datetime | None = None
) -> Rental:
    now = now or utcnow()
    rental = for_resident(session, resident, rental_id, lock=True)
    if rental.status == RentalStatus.disputed:
        return rental
    if rental.status != RentalStatus.default_reported:
        raise Conflict("Only a reported default can be disputed.", code="rental_not_disputable")
    assert rental.dispute_window_ends_at is not None
    if now >= rental.dispute_window_ends_at:
        raise Conflict("The dispute window has closed.", code="dispute_window_closed")
    rental.status = RentalStatus.disputed
    rental.disputed_at = now
    rental.dispute_reason = reason
    touch(session, rental, now)
    audit(session, resident, rental, "rental.disputed")
    return rental


def resolve_dispute(
    session: Session,
    provider: PaymentsProvider,
    crypto: Crypto,
    settings: Settings,
    operator: Principal,
    rental_id: str,
    *,
    outcome: str,
    note: str,
    now: datetime | None = None,
) -> Rental:
    now = now or utcnow()
    rental = lock_rental(session, rental_id)
    if rental is None:
        raise NotFound("No rental has this id.", code="rental_not_found", param="rental_id")
    if rental.resolution == outcome:
        return rental
    if rental.status != RentalStatus.disputed:
        raise Conflict("Only a disputed default can be resolved.", code="rental_not_disputed")
    rental.resolution, rental.resolution_note = outcome, note
    rental.resolved_at, rental.resolved_by = now, f"{operator.type}:{operator.id}"
    audit(session, operator, rental, "rental.dispute_resolved", outcome=outcome)
    if outcome == "rejected":
        return _default(session, crypto, settings, operator, rental, now)
    rental.status = RentalStatus.dispute_upheld
    touch(session, rental, now)
    release_hold(session, provider, rental)  # last: the provider call
    return rental


def _severity(amount_fen: int) -> str:
    for limit, severity in _SEVERITY_LIMITS:
        if amount_fen <= limit:
            return severity
    return "serious"


def _default(
    session: Session, crypto: Crypto, settings: Settings, actor: Principal, rental: Rental, now: datetime
) -> Rental:
    """The default stands: negative record and rescore in this transaction; the collection is written
    here and taken after the commit (:func:`settle_default`)."""
    amount = rental.default_amount_fen or rental.deposit_fen
    rental.status = RentalStatus.defaulted
    rental.defaulted_at = now
    rental.hold_capture_fen = min(amount, rental.fund_amount_fen)
    record = platform_records.write(
        session,
        crypto,
        actor,
        platform_records.PlatformRecord(
            source_record_id=f"{rental.id}.defaulted",
            subject_id=rental.subject_id,
            category="platform_rental",
            outcome="defaulted",
            severity=_severity(amount),
            title=f"信易租违约：逾期未归还（{rental.item_kind}）",
        ),
    )
    rental.record_id = record.id
    rest = amount - rental.hold_capture_fen
    if rest > 0:
        collection = payment_collections.create_collection(
            session, settings, subject_id=rental.subject_id, rental_id=rental.id, amount_fen=rest, now=now
        )
        rental.collection_payment_id = collection.id
    touch(session, rental, now)
    audit(session, actor, rental, "rental.defaulted", amount_fen=amount, record_id=record.id)
    return rental


def due_defaults(session: Session, now: datetime, limit: int = 100) -> list[str]:
    """Reported defaults whose dispute window ended without a dispute."""
    statement = (
        select(col(Rental.id))
        .where(Rental.status == RentalStatus.default_reported, col(Rental.dispute_window_ends_at) <= now)
        .order_by(col(Rental.dispute_window_ends_at))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def end_dispute_window(
    session: Session, crypto: Crypto, settings: Settings, rental_id: str, now: datetime
) -> Rental | None:
    rental = lock_rental(session, rental_id)
    if rental is None or rental.status != RentalStatus.default_reported:
        return None  # disputed or returned meanwhile, or done by another worker
    assert rental.dispute_window_ends_at is not None
    if rental.dispute_window_ends_at > now:
        return None
    return _default(session, crypto, settings, SYSTEM_ACTOR, rental, now)


def holds_to_capture(session: Session, limit: int = 100) -> list[str]:
    """Defaulted rentals whose hold is still only held."""
    statement = (
        select(col(Rental.id))
        .join(Payment, col(Payment.id) == col(Rental.hold_payment_id))
        .where(Rental.status == RentalStatus.defaulted, Payment.status == "held")
        .limit(limit)
    )
    return list(session.exec(statement).all())


def capture_for_default(session: Session, provider: PaymentsProvider, rental_id: str) -> Payment | None:
    rental = lock_rental(session, rental_id)
    if rental is None or rental.status != RentalStatus.defaulted:
        return None
    hold, _ = payments_of(session, rental)
    if hold is None:
        return None
    return payments_service.capture_hold(session, provider, hold, rental.hold_capture_fen or 0)
