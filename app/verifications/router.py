"""Partners verify passes (``/v1/verifications``, ``/v1/offline/…``); residents see every scan
(``/v1/me/verifications``, live at ``/v1/me/verifications/stream``); operators see flagged offline uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.core import edge, metrics
from app.core.db import AsyncSessionDep, SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep
from app.core.pagination import Page, PageParamsDep
from app.core.principal import Principal
from app.deps import (
    CryptoDep,
    CurrentUser,
    OperatorDep,
    StoreDep,
    StoreOnLoopDep,
    require_scope,
    require_scope_on_loop,
)
from app.partners import service as partners_service
from app.passes import denylist
from app.scenarios import service as scenarios_service
from app.scenarios.catalog import Catalog, CatalogDep
from app.signing.router import get_keyring
from app.verifications import offline, service, stream
from app.verifications.models import Verification
from app.verifications.schemas import (
    FlaggedOut,
    OfflineReportIn,
    OfflineReportItemOut,
    OfflineReportOut,
    ReasonLabels,
    ScanOut,
    ScanPartner,
    ScanScenario,
    VerificationOut,
    VerifyIn,
)

router = APIRouter(route_class=AppRoute, tags=["verifications"])

Verifier = Annotated[Principal, Depends(require_scope("verifications:write"))]
VerifierOnLoop = Annotated[Principal, Depends(require_scope_on_loop("verifications:write"))]
_JSON = "application/json"


def _labels(code: str) -> ReasonLabels:
    return ReasonLabels(**scenarios_service.reason_labels(code))


@router.post(
    "/v1/verifications",
    status_code=201,
    responses={
        409: {"description": "token_replayed"},
        422: {"description": "token_* refusals, unknown_scenario"},
        403: {"description": "scenario_not_allowed_for_partner"},
    },
)
async def verify_pass(
    body: VerifyIn,
    partner: VerifierOnLoop,
    idem: IdempotencyDep,
    request: Request,
    session: AsyncSessionDep,
    store: StoreOnLoopDep,
    crypto: CryptoDep,
    catalog: CatalogDep,
    background: BackgroundTasks,
) -> VerificationOut:
    """Check a scanned pass for a scenario: signature and expiry, your kind of partner, single use, the
    subject's standing now, the scenario's rule. Refusals of the token are problems with their own code
    (token_invalid_signature, token_malformed, token_algorithm_not_allowed, token_unknown_key,
    token_expired, token_not_yet_valid, token_replayed, token_scenario_mismatch); a decision, eligible or
    not, is recorded and shown to the resident at once. Send an ``Idempotency-Key`` to retry safely."""
    verification = await service.verify(
        session, store, get_keyring(request), crypto.hasher, catalog, partner, body.token, body.scenario
    )
    metrics.VERIFICATIONS.labels(verification.scenario, verification.decision).inc()
    background.add_task(stream.notify, store, verification.subject_id)
    return VerificationOut(
        id=verification.id,
        decision=verification.decision,
        reason=verification.reason,
        reason_labels=_labels(verification.reason),
        benefit=verification.benefit,
        subject=service.pseudonym(crypto.hasher, partner.id, verification.subject_id),
        scenario=verification.scenario,
        created_at=verification.created_at,
        expires_at=verification.expires_at,
    )


def _scans(session: Session, catalog: Catalog, rows: list[Verification]) -> list[ScanOut]:
    partners = {pid: partners_service.get_partner(session, pid) for pid in {row.partner_id for row in rows}}
    out = []
    for row in rows:
        partner = partners[row.partner_id]
        scenario = catalog.get(row.scenario)
        out.append(
            ScanOut(
                id=row.id,
                created_at=row.created_at,
                mode=row.mode,
                partner=ScanPartner(id=partner.id, name=partner.name, kind=str(partner.kind)),
                scenario=ScanScenario(
                    id=row.scenario,
                    name_zh=scenario.name_zh if scenario else row.scenario,
                    name_en=scenario.name_en if scenario else row.scenario,
                ),
                decision=row.decision,
                reason=row.reason,
                reason_labels=_labels(row.reason),
                benefit=row.benefit,
                used_at=row.used_at,
                flagged=row.flagged,
            )
        )
    return out


@router.get("/v1/me/verifications")
def my_verifications(
    user: CurrentUser, session: SessionDep, page: PageParamsDep, catalog: CatalogDep
) -> Page[ScanOut]:
    """Every scan of your passes: who, when, for which scenario, and the decision. Newest first."""
    if user.subject_id is None:
        return Page(data=[], has_more=False)
    rows, has_more = service.list_for_subject(session, user.subject_id, page)
    return Page(data=_scans(session, catalog, rows), has_more=has_more)


@router.get("/v1/me/verifications/stream", response_class=StreamingResponse)
def my_verifications_stream(
    user: CurrentUser,
    request: Request,
    store: StoreOnLoopDep,
    catalog: CatalogDep,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    """Server-sent events: ``event: verification`` with the scan (as in the list) within a second of it.
    Reconnect with ``Last-Event-ID`` to get what was missed. Ends after 30 minutes, after 5 minutes
    without a scan, or when the server restarts; reconnect. At most 3 open streams per account (429)."""
    if user.subject_id is None:
        return StreamingResponse(
            iter(["retry: 60000\n: no identity bound\n\n"]), media_type="text/event-stream"
        )

    def render(session: Session, rows: list[Verification]) -> list[dict[str, object]]:
        return [scan.model_dump(mode="json") for scan in _scans(session, catalog, rows)]

    streams: stream.Streams = request.app.state.streams
    slot = streams.acquire(user.id)  # 429 past the per-user or per-process cap
    events = stream.events(
        request.app.state.engine,
        store,
        user.subject_id,
        last_event_id,
        render,
        request.is_disconnected,
        streams,
    )
    return StreamingResponse(
        stream.held(slot, events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/v1/offline/reports", openapi_extra=edge.max_body(edge.LIST_MAX_BODY))
def report_offline_uses(
    body: OfflineReportIn,
    partner: Verifier,
    idem: IdempotencyDep,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    store_on_loop: StoreOnLoopDep,
    crypto: CryptoDep,
    catalog: CatalogDep,
    background: BackgroundTasks,
) -> OfflineReportOut:
    """Report offline codes your SDK accepted without a connection (up to 100 per call). Each item is
    recorded (shown to the resident, audited), flagged (the code was used before, by anyone), a
    duplicate of your earlier report, or rejected with a code; items do not depend on each other."""
    items = [offline.ReportItem(i.token, i.scenario, i.used_at) for i in body.items]
    outcomes = offline.reconcile(session, store, get_keyring(request), catalog, partner, items)
    data = []
    scanned = []
    for index, outcome in enumerate(outcomes):
        verification = outcome.verification
        if verification is not None and outcome.status != "duplicate":
            scanned.append(verification.subject_id)
        data.append(
            OfflineReportItemOut(
                index=index,
                status=outcome.status,
                verification_id=verification.id if verification else None,
                subject=service.pseudonym(crypto.hasher, partner.id, verification.subject_id)
                if verification
                else None,
                code=outcome.code,
                detail=outcome.detail,
            )
        )
    background.add_task(stream.notify, store_on_loop, *scanned)
    return OfflineReportOut(data=data)


@router.get("/v1/offline/deny-list", response_class=Response)
def deny_list(request: Request, session: SessionDep, store: StoreDep, crypto: CryptoDep) -> Response:
    """Public, like the JWKS: a compact JWS (EdDSA, keys in the JWKS) of the offline codes to refuse,
    payload ``{"v", "iat", "max_age", "salt", "hashes"}``, each hash the first 16 characters of
    base64url(HMAC-SHA256(key=base64url-decoded salt, message=handle)). It names no subject and its salt
    changes with every version. Past ``max_age`` seconds after ``iat`` stop accepting offline codes.
    A new version at most every minute."""
    token = denylist.current(session, store, get_keyring(request), crypto.hasher)
    return Response(token, media_type="application/jwt", headers={"Cache-Control": "public, max-age=60"})


@router.get("/v1/admin/verifications/flagged")
def flagged_verifications(op: OperatorDep, session: SessionDep, page: PageParamsDep) -> Page[FlaggedOut]:
    """Offline codes used more than once, newest first. This read is recorded on the system chain."""
    rows, has_more = service.list_flagged(session, op, page)
    return Page(
        data=[FlaggedOut.model_validate(row, from_attributes=True) for row in rows], has_more=has_more
    )
