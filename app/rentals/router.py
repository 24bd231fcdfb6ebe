"""Merchants open, return and default rentals (``/v1/rentals``); residents see and dispute theirs
(``/v1/me/rentals``); operators decide disputes (``/v1/admin/rentals/…``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.core.db import SessionDep
from app.core.errors import Forbidden
from app.core.idempotency import AppRoute, IdempotencyDep, IdempotencyRequiredDep
from app.core.pagination import Page, PageParams, PageParamsDep, page_of
from app.core.principal import Principal
from app.core.security import Hasher
from app.deps import CryptoDep, CurrentUser, OperatorDep, PartnerDep, SettingsDep, require_scope
from app.partners import service as partners_service
from app.payments.models import Payment
from app.payments.router import ProviderDep
from app.rentals import defaults, schemas, service
from app.rentals.models import Rental, RentalStatus
from app.scenarios.catalog import CatalogDep
from app.verifications import service as verifications_service

router = APIRouter(route_class=AppRoute, tags=["rentals"])

RentalWriter = Annotated[Principal, Depends(require_scope("rentals:write"))]


def _rental_counter(partner: PartnerDep) -> Principal:
    """Opening and returning at the counter: a full rentals key, or a scanner device's (rentals:counter)."""
    if not partner.scopes.intersection({"rentals:write", "rentals:counter"}):
        raise Forbidden("This API key lacks the rentals:write scope.", code="scope_required")
    return partner


RentalCounter = Annotated[Principal, Depends(_rental_counter)]


def _rental_reader(partner: PartnerDep) -> Principal:
    if not partner.scopes.intersection({"rentals:read", "rentals:write"}):
        raise Forbidden("This API key lacks the rentals:read scope.", code="scope_required")
    return partner


RentalReader = Annotated[Principal, Depends(_rental_reader)]
StatusQuery = Annotated[RentalStatus | None, Query(description="Only rentals in this status.")]
OverdueQuery = Annotated[bool, Query(description="Only open rentals past their due time.")]


def _money(payment: Payment | None) -> schemas.MoneyOut | None:
    if payment is None:
        return None
    return schemas.MoneyOut(
        status=payment.status, amount_fen=payment.amount_fen, taken_fen=payment.captured_fen
    )


def _default(rental: Rental) -> schemas.DefaultOut | None:
    if rental.default_reported_at is None:
        return None
    assert rental.default_amount_fen is not None and rental.dispute_window_ends_at is not None
    return schemas.DefaultOut(
        reported_at=rental.default_reported_at,
        amount_fen=rental.default_amount_fen,
        evidence=rental.default_evidence or {},
        dispute_window_ends_at=rental.dispute_window_ends_at,
        disputed_at=rental.disputed_at,
        dispute_reason=rental.dispute_reason,
        resolution=rental.resolution,
        resolved_at=rental.resolved_at,
        defaulted_at=rental.defaulted_at,
    )


def _common(session: Session, rental: Rental) -> dict[str, Any]:
    """What the merchant's and the resident's view of a rental both show."""
    hold, collection = service.payments_of(session, rental)
    return {
        "id": rental.id,
        "status": rental.status,
        "item": schemas.ItemOut(kind=rental.item_kind, reference=rental.item_reference),
        "deposit_fen": rental.deposit_fen,
        "credit_amount": rental.credit_amount_fen,
        "fund_amount": rental.fund_amount_fen,
        "hold": _money(hold),
        "collection": _money(collection),
        "opened_at": rental.opened_at,
        "due_at": rental.due_at,
        "returned_at": rental.returned_at,
        "returned_on_time": rental.returned_on_time,
        "default": _default(rental),
    }


def rental_out(session: Session, hasher: Hasher, rental: Rental) -> schemas.RentalOut:
    return schemas.RentalOut(
        **_common(session, rental),
        verification_id=rental.verification_id,
        subject=verifications_service.pseudonym(hasher, rental.partner_id, rental.subject_id),
    )


def rentals_page(
    session: Session,
    hasher: Hasher,
    partner: Principal,
    page: PageParams,
    status: RentalStatus | None,
    overdue: bool,
) -> Page[schemas.RentalOut]:
    """A partner's rentals, as its key and its members (app.members.consoles) list them."""
    return page_of(
        service.list_for_partner(session, partner, page, status.value if status else None, overdue=overdue),
        lambda r: rental_out(session, hasher, r),
    )


def my_rental_out(session: Session, rental: Rental) -> schemas.MyRentalOut:
    partner = partners_service.get_partner(session, rental.partner_id)
    return schemas.MyRentalOut(
        **_common(session, rental),
        partner=schemas.RentalPartner(id=partner.id, name=partner.name),
        record_id=rental.record_id,
        can_dispute_until=rental.dispute_window_ends_at
        if rental.status == RentalStatus.default_reported
        else None,
    )


@router.post(
    "/v1/rentals",
    status_code=201,
    responses={
        402: {"description": "card_declined, payment_authentication_required"},
        404: {"description": "verification_not_found"},
        409: {"description": "verification_already_used, verification_expired, payment_method_required, …"},
    },
)
def open_rental(
    body: schemas.RentalOpenIn,
    partner: RentalCounter,
    idem: IdempotencyRequiredDep,
    session: SessionDep,
    settings: SettingsDep,
    crypto: CryptoDep,
    catalog: CatalogDep,
    provider: ProviderDep,
) -> schemas.RentalOut:
    """Open a rental on a ``deposit_free_rental`` verification of yours (single use, before it expires).
    Eligible: the deposit is waived up to the scenario's cap for the item kind (``credit_amount``) and
    any excess is held on the resident's card (``fund_amount``). Not eligible: the whole deposit is held.
    Needs an ``Idempotency-Key``: a retry with it answers with the same rental and never holds twice."""
    rental = service.open_rental(
        session,
        provider,
        settings,
        catalog,
        partner,
        service.OpenRequest(
            verification_id=body.verification_id,
            item_kind=body.item.kind,
            item_reference=body.item.reference,
            deposit_fen=body.deposit_fen,
            due_at=body.due_at,
        ),
    )
    return rental_out(session, crypto.hasher, rental)


@router.get("/v1/rentals")
def list_rentals(
    partner: RentalReader,
    session: SessionDep,
    crypto: CryptoDep,
    page: PageParamsDep,
    status: StatusQuery = None,
    overdue: OverdueQuery = False,
) -> Page[schemas.RentalOut]:
    """Your rentals, newest first."""
    return rentals_page(session, crypto.hasher, partner, page, status, overdue)


@router.get("/v1/rentals/{rental_id}")
def get_rental(
    rental_id: str, partner: RentalReader, session: SessionDep, crypto: CryptoDep
) -> schemas.RentalOut:
    return rental_out(session, crypto.hasher, service.for_partner(session, partner, rental_id))


@router.post("/v1/rentals/{rental_id}/return")
def return_rental(
    rental_id: str,
    partner: RentalCounter,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
    provider: ProviderDep,
) -> schemas.RentalOut:
    """The item is back: the rental closes and its hold is released. On time, the resident gets a
    positive platform-behaviour record. Returning again answers the same and changes nothing."""
    rental = service.return_rental(session, provider, crypto, partner, rental_id)
    return rental_out(session, crypto.hasher, rental)


@router.post("/v1/rentals/{rental_id}/default")
def report_default(
    rental_id: str,
    body: schemas.DefaultIn,
    partner: RentalWriter,
    idem: IdempotencyDep,
    session: SessionDep,
    settings: SettingsDep,
    crypto: CryptoDep,
) -> schemas.RentalOut:
    """Report an overdue rental as defaulted, with evidence. The resident is notified and may dispute
    it within the window; only then, if undisputed or the dispute is rejected, is a negative record
    written and the amount (at most the deposit) collected. Reporting again changes nothing."""
    rental = defaults.report_default(
        session,
        settings,
        partner,
        rental_id,
        amount_fen=body.amount_fen,
        evidence=body.evidence.model_dump(mode="json"),
    )
    return rental_out(session, crypto.hasher, rental)


@router.get("/v1/me/rentals")
def my_rentals(
    user: CurrentUser, session: SessionDep, page: PageParamsDep, status: StatusQuery = None
) -> Page[schemas.MyRentalOut]:
    """Your rentals, newest first. ``status=default_reported``: defaults you can still dispute."""
    return page_of(
        service.list_for_resident(session, user, page, status.value if status else None),
        lambda r: my_rental_out(session, r),
    )


@router.get("/v1/me/rentals/{rental_id}")
def my_rental(rental_id: str, user: CurrentUser, session: SessionDep) -> schemas.MyRentalOut:
    return my_rental_out(session, service.for_resident(session, user, rental_id))


@router.post("/v1/me/rentals/{rental_id}/dispute")
def dispute_default(
    rental_id: str, body: schemas.DisputeIn, user: CurrentUser, idem: IdempotencyDep, session: SessionDep
) -> schemas.MyRentalOut:
    """Dispute a reported default before ``can_dispute_until``. Nothing is recorded or charged until an
    operator decides."""
    return my_rental_out(session, defaults.dispute(session, user, rental_id, body.reason))


@router.post("/v1/admin/rentals/{rental_id}/dispute-resolution")
def resolve_dispute(
    rental_id: str,
    body: schemas.ResolutionIn,
    op: OperatorDep,
    idem: IdempotencyDep,
    session: SessionDep,
    settings: SettingsDep,
    crypto: CryptoDep,
    provider: ProviderDep,
) -> schemas.MyRentalOut:
    """Decide a disputed default. ``upheld``: no record, no charge, the hold is released. ``rejected``:
    the negative record is written (the score drops at once) and the collection starts."""
    rental = defaults.resolve_dispute(
        session, provider, crypto, settings, op, rental_id, outcome=body.outcome, note=body.note
    )
    return my_rental_out(session, rental)
