"""``/v1/me/passes``: the resident's rotating credit QR and pre-issued offline codes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from app.core import metrics
from app.core.clock import utcnow
from app.core.db import AsyncSessionDep, SessionDep
from app.core.errors import NotFound
from app.core.idempotency import AppRoute, IdempotencyDep
from app.deps import CryptoDep, CurrentUser, CurrentUserOnLoop, StoreDep, StoreOnLoopDep
from app.passes import qr, service
from app.passes.models import OfflineCode
from app.passes.schemas import (
    OfflineBatchIn,
    OfflineCodeList,
    OfflineCodeOut,
    PassList,
    PassOut,
    QrOut,
    Revoked,
)
from app.scenarios.catalog import CatalogDep
from app.signing.router import get_keyring

router = APIRouter(route_class=AppRoute, tags=["passes"])

REFRESH_MARGIN = timedelta(seconds=30)
_NO_STORE = {"Cache-Control": "no-store"}
_JSON = "application/json"


def _urls(pass_id: str) -> tuple[str, str]:
    return f"/v1/me/passes/{pass_id}.svg", f"/v1/me/passes/{pass_id}.png"


def _pass_out(issued: service.IssuedPass) -> PassOut:
    svg_url, png_url = _urls(issued.id)
    return PassOut(
        id=issued.id,
        kind=issued.kind,
        token=issued.token,
        scenario=issued.scenario,
        not_before=issued.not_before,
        expires_at=issued.expires_at,
        refresh_after=issued.expires_at - REFRESH_MARGIN,
        expires_in=max(0, int((issued.expires_at - utcnow()).total_seconds())),
        qr=QrOut(
            version=issued.qr_version,
            mask=qr.MASK_PATTERN,
            text=issued.qr_text,
            svg_url=svg_url,
            png_url=png_url,
            svg_data_url=qr.svg_data_url(issued.svg),
        ),
    )


def _code_out(code: OfflineCode) -> OfflineCodeOut:
    svg_url, png_url = _urls(code.id)
    return OfflineCodeOut(
        id=code.id,
        scenario=code.scenario,
        not_before=code.not_before,
        expires_at=code.expires_at,
        revoked_at=code.revoked_at,
        used_at=code.used_at,
        svg_url=svg_url,
        png_url=png_url,
    )


@router.post("/v1/me/passes", status_code=201)
async def create_pass(
    user: CurrentUserOnLoop,
    idem: IdempotencyDep,
    request: Request,
    session: AsyncSessionDep,
    store: StoreOnLoopDep,
    crypto: CryptoDep,
    response: Response,
) -> PassOut:
    """A fresh credit pass: a single-use token valid for 90 seconds and its QR code (version 10-M).
    Show the QR; ask again after ``refresh_after``. The token holds no personal data."""
    issued = await service.issue_online(session, store, get_keyring(request), crypto.hasher, user)
    metrics.PASSES_ISSUED.labels("online").inc()
    response.headers.update(_NO_STORE)
    return _pass_out(issued)


@router.post("/v1/me/passes/offline", status_code=201)
def create_offline_codes(
    body: OfflineBatchIn,
    user: CurrentUser,
    idem: IdempotencyDep,
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    response: Response,
) -> PassList:
    """Pre-issued single-use codes for a phone without signal: one low-value scenario, at most 10 live
    codes, each valid up to 24 hours, only while you are eligible for it. Each code is refused once used,
    revoked, or if you are black-listed meanwhile (partners fetch a deny list)."""
    issued = service.issue_offline(
        session, get_keyring(request), catalog, user, body.scenario, body.count, body.hours
    )
    metrics.PASSES_ISSUED.labels("offline").inc(len(issued))
    response.headers.update(_NO_STORE)
    return PassList(data=[_pass_out(p) for p in issued])


@router.get("/v1/me/passes/offline")
def list_offline_codes(user: CurrentUser, session: SessionDep) -> OfflineCodeList:
    """Your offline codes that have not expired, newest first (tokens are in their images)."""
    return OfflineCodeList(data=[_code_out(c) for c in service.live_offline_codes(session, user)])


@router.post("/v1/me/passes/offline/revoke")
def revoke_offline_codes(user: CurrentUser, session: SessionDep) -> Revoked:
    """Revoke every offline code you still hold (a lost phone). Partners refuse them from the next deny
    list on, and online at once."""
    return Revoked(revoked=service.revoke_all_offline(session, user))


@router.delete("/v1/me/passes/{pass_id}", status_code=204)
def revoke_pass(pass_id: str, user: CurrentUser, session: SessionDep, store: StoreDep) -> Response:
    """Revoke one pass or offline code of yours."""
    service.revoke(session, store, user, pass_id)
    return Response(status_code=204)


def _token_of(pass_id: str, user: CurrentUser, request: Request, session: SessionDep, store: StoreDep) -> str:
    if pass_id.startswith("pas_"):
        found = service.get_online(store, pass_id)  # kept only while the token can be verified
        if found is None or found.user_id != user.id:
            raise NotFound("No live pass of yours has this id.", code="pass_not_found", param="pass_id")
        return found.token
    code = service.offline_code_of(session, user, pass_id)
    token = service.offline_token(session, get_keyring(request), code)
    if token is None:  # pragma: no cover - keys are never deleted
        raise NotFound("This code's key is gone.", code="pass_not_found", param="pass_id")
    return token


@router.get("/v1/me/passes/{pass_id}.svg", response_class=Response)
def pass_svg(
    pass_id: str, user: CurrentUser, request: Request, session: SessionDep, store: StoreDep
) -> Response:
    """The pass's QR code as SVG."""
    _, _, svg = service.render(_token_of(pass_id, user, request, session, store))
    return Response(svg, media_type="image/svg+xml", headers=_NO_STORE)


@router.get("/v1/me/passes/{pass_id}.png", response_class=Response)
def pass_png(
    pass_id: str, user: CurrentUser, request: Request, session: SessionDep, store: StoreDep
) -> Response:
    """The pass's QR code as PNG (8 pixels per module, with the quiet zone)."""
    _, modules = qr.encode(qr.to_numeric(_token_of(pass_id, user, request, session, store)))
    return Response(qr.png(modules), media_type="image/png", headers=_NO_STORE)
