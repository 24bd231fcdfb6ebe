"""Residents save a payment method; Stripe delivers webhooks; operators see payments and refund them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Request
from sqlmodel import Session

from app.core import edge
from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep
from app.deps import CurrentUser, OperatorDep, SettingsDep
from app.payments import events, refunds, schemas, service
from app.payments.models import PaymentKind, PaymentStatus
from app.payments.provider import PaymentsProvider

router = APIRouter(route_class=AppRoute, tags=["payments"])


def get_provider(settings: SettingsDep, session: SessionDep) -> PaymentsProvider:
    return service.provider_for(settings, session)


ProviderDep = Annotated[PaymentsProvider, Depends(get_provider)]


def after_commit_sessions(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Sessions for work done after the request committed (tests bind them to their transaction)."""
    factory = getattr(request.app.state, "payments_session_factory", None)
    return factory or events.default_session_factory(request.app.state.engine)


@router.get("/v1/me/payment-method")
def my_payment_method(
    user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> schemas.PaymentMethodOut:
    """The card saved for deposit holds and for collecting a deposit-free rental's default."""
    customer = service.customer_of(session, user.subject_id) if user.subject_id else None
    saved = customer is not None and customer.payment_method_id is not None
    return schemas.PaymentMethodOut(
        provider=service.provider_name(settings),
        saved=saved,
        label=customer.payment_method_label if customer is not None and saved else None,
    )


@router.post("/v1/me/payment-method/setup", status_code=201)
def set_up_payment_method(
    user: CurrentUser, idem: IdempotencyDep, session: SessionDep, provider: ProviderDep
) -> schemas.PaymentSetupOut:
    """Save a card for off-session use. With Stripe, confirm the returned ``client_secret`` with
    Stripe.js (``confirmCardSetup``); the card is saved when Stripe tells the platform (webhook
    ``setup_intent.succeeded``). The embedded provider of a development run saves a test card at once.
    A newly saved card also retries collections that were waiting for one."""
    setup = service.start_setup(session, provider, user)
    customer = service.customer_of(session, user.subject_id) if user.subject_id else None
    return schemas.PaymentSetupOut(
        id=setup.id,
        provider=provider.name,
        status=setup.status,
        client_secret=setup.client_secret,
        payment_method_label=customer.payment_method_label if customer else None,
    )


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/v1/stripe/webhook",
    responses={400: {"description": "invalid_stripe_signature"}},
    openapi_extra=edge.max_body(edge.LIST_MAX_BODY),
)
def stripe_webhook(
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    sessions: Annotated[Callable[[], AbstractContextManager[Session]], Depends(after_commit_sessions)],
    payload: Annotated[bytes, Depends(_raw_body)],
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature", max_length=2048)] = None,
) -> schemas.WebhookAck:
    """Stripe's deliveries. Verified by the Stripe SDK against the raw body and ``Stripe-Signature``
    (with its timestamp tolerance), stored once per event id, processed after the commit. A replayed
    event id is acknowledged and not processed again. Refused (503) while no webhook secret is set."""
    event = events.verify(settings, payload, stripe_signature)
    fresh = events.store(session, event)
    if fresh:
        background.add_task(events.process_pending, sessions, lambda s: service.provider_for(settings, s))
    return schemas.WebhookAck(duplicate=not fresh)


@router.get("/v1/admin/payments")
def list_payments(
    op: OperatorDep,
    session: SessionDep,
    page: PageParamsDep,
    status: Annotated[
        PaymentStatus | None, Query(description="e.g. action_required: collection tasks")
    ] = None,
    kind: Annotated[PaymentKind | None, Query()] = None,
) -> Page[schemas.PaymentOut]:
    """Every payment the platform asked for, newest first. ``status=action_required`` lists the
    collection tasks: off-session charges the resident's bank wants authenticated."""
    rows, has_more = service.list_payments(
        session, page, status=status.value if status else None, kind=kind.value if kind else None
    )
    return Page(
        data=[schemas.PaymentOut.model_validate(r, from_attributes=True) for r in rows], has_more=has_more
    )


@router.post("/v1/admin/payments/{payment_id}/refunds", status_code=201)
def refund_payment(
    payment_id: str,
    body: schemas.RefundIn,
    op: OperatorDep,
    idem: IdempotencyDep,
    session: SessionDep,
    provider: ProviderDep,
) -> schemas.RefundOut:
    """Give back (part of) a captured deposit or a collected default. Recorded in the resident's log."""
    row = refunds.refund(session, provider, op, payment_id, body.amount_fen, body.reason)
    return schemas.RefundOut.model_validate(row, from_attributes=True)
