"""Partner onboarding for operators (``/v1/admin/partners…``) and ``/v1/partner/me`` for partner keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep, page_of
from app.deps import OperatorDep, PartnerDep
from app.partners import places, schemas, service
from app.partners.models import ApiKey, Partner, PartnerKind, PartnerStatus
from app.scenarios.catalog import CatalogDep

router = APIRouter(route_class=AppRoute, tags=["partners"])


def _partner_out(partner: Partner) -> schemas.PartnerOut:
    return schemas.PartnerOut.model_validate(partner, from_attributes=True)


def key_out(api_key: ApiKey) -> schemas.ApiKeyOut:
    return schemas.ApiKeyOut.model_validate(api_key, from_attributes=True)


@router.post("/v1/admin/partners", status_code=201)
def create_partner(
    body: schemas.CreatePartner, op: OperatorDep, idem: IdempotencyDep, session: SessionDep
) -> schemas.PartnerOut:
    """Onboard a partner organisation. Give it API keys next."""
    return _partner_out(service.create_partner(session, op, body.name, body.kind))


@router.get("/v1/admin/partners")
def list_partners(
    op: OperatorDep,
    session: SessionDep,
    page: PageParamsDep,
    kind: Annotated[PartnerKind | None, Query(description="Only partners of this kind.")] = None,
    status: Annotated[PartnerStatus | None, Query(description="Only partners in this status.")] = None,
) -> Page[schemas.PartnerOut]:
    """Newest first."""
    return page_of(service.list_partners(session, page, kind=kind, status=status), _partner_out)


@router.get("/v1/admin/partners/{partner_id}")
def get_partner(partner_id: str, op: OperatorDep, session: SessionDep) -> schemas.PartnerOut:
    return _partner_out(service.get_partner(session, partner_id))


@router.patch("/v1/admin/partners/{partner_id}")
def update_partner_profile(
    partner_id: str, body: schemas.PartnerProfileIn, op: OperatorDep, session: SessionDep, catalog: CatalogDep
) -> schemas.PartnerOut:
    """The partner's public face for residents: display name, district, address, offered scenarios."""
    changes = body.model_dump(exclude_unset=True)
    return _partner_out(places.set_profile(session, op, partner_id, changes, catalog))


@router.get("/v1/places")
def list_places(session: SessionDep, response: Response) -> Page[schemas.PlaceOut]:
    """Public: the partners where 信易+ can be used, with where they are and the scenarios they offer."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return Page(
        data=[
            schemas.PlaceOut(
                id=p.id,
                display_name=p.display_name or p.name,
                kind=service.kind_of(p),
                district=p.district,
                address=p.address,
                scenarios=list(p.offered_scenarios),
            )
            for p in places.listed(session)
        ],
        has_more=False,
    )


@router.post("/v1/admin/partners/{partner_id}/suspend")
def suspend_partner(partner_id: str, op: OperatorDep, session: SessionDep) -> schemas.PartnerOut:
    """Every key of the partner is refused (403 ``partner_suspended``) until it is reactivated."""
    return _partner_out(service.suspend_partner(session, op, partner_id))


@router.post("/v1/admin/partners/{partner_id}/reactivate")
def reactivate_partner(partner_id: str, op: OperatorDep, session: SessionDep) -> schemas.PartnerOut:
    return _partner_out(service.reactivate_partner(session, op, partner_id))


@router.post("/v1/admin/partners/{partner_id}/api-keys", status_code=201)
def create_api_key(
    partner_id: str,
    body: schemas.CreateApiKey,
    op: OperatorDep,
    idem: IdempotencyDep,
    session: SessionDep,
    response: Response,
) -> schemas.CreatedApiKey:
    """Issue an API key. ``secret`` is in this response only; the platform keeps just its hash. A retry
    with the same ``Idempotency-Key`` gets the same key back (the stored response is sealed under a key
    derived from the ``Idempotency-Key``, which the store never holds)."""
    issued = service.create_api_key(session, op, partner_id, body.name, body.scopes)
    response.headers["Cache-Control"] = "no-store"
    return schemas.CreatedApiKey(**key_out(issued.api_key).model_dump(), secret=issued.secret)


@router.get("/v1/admin/partners/{partner_id}/api-keys")
def list_api_keys(
    partner_id: str, op: OperatorDep, session: SessionDep, page: PageParamsDep
) -> Page[schemas.ApiKeyOut]:
    """Newest first, revoked keys included. Secrets are never shown again."""
    return page_of(service.list_api_keys(session, partner_id, page), key_out)


@router.post("/v1/admin/partners/{partner_id}/api-keys/{key_id}/revoke")
def revoke_api_key(partner_id: str, key_id: str, op: OperatorDep, session: SessionDep) -> schemas.ApiKeyOut:
    """The key stops authenticating with the next request. Revoking it again changes nothing."""
    return key_out(service.revoke_api_key(session, op, key_id, partner_id=partner_id))


@router.get("/v1/partner/me")
def partner_me(partner: PartnerDep, request: Request, session: SessionDep) -> schemas.PartnerMe:
    """Which partner and which key this API key is: a quick check that a key works."""
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    api_key = service.caller_api_key(session, partner, token)
    organisation = service.get_partner(session, partner.id)
    return schemas.PartnerMe(
        id=organisation.id,
        name=organisation.name,
        kind=service.kind_of(organisation),
        status=PartnerStatus(organisation.status),
        api_key=schemas.CallerKey(
            id=api_key.id, name=api_key.name, prefix=api_key.prefix, scopes=sorted(partner.scopes)
        ),
    )
