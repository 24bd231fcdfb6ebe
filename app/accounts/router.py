from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.accounts import service
from app.accounts.models import User
from app.accounts.schemas import (
    BindIdentityRequest,
    Identity,
    Me,
    OtpRequest,
    OtpSent,
    RefreshRequest,
    TokenPair,
    TokenRequest,
)
from app.core.db import SessionDep
from app.core.errors import NotFound, error_response
from app.core.idempotency import AppRoute
from app.core.security import mask_name
from app.deps import CryptoDep, CurrentUser, SettingsDep, StoreDep
from app.subjects.models import Subject

router = APIRouter(route_class=AppRoute, tags=["accounts"])


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _pair(settings: SettingsDep, issued: service.IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=issued.access_token,
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=issued.refresh_token,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
        user_id=issued.user_id,
    )


@router.post("/v1/auth/otp", status_code=202)
def request_login_code(
    body: OtpRequest, request: Request, store: StoreDep, crypto: CryptoDep, settings: SettingsDep
) -> OtpSent:
    """Send a 6-digit sign-in code by SMS. The code is never returned over HTTP."""
    sent = service.send_login_code(
        store, crypto, settings, request.app.state.sms_sender, body.phone, _client_ip(request)
    )
    return OtpSent(
        phone=sent.phone[:3] + "****" + sent.phone[-4:],
        challenge=sent.challenge,
        expires_in=settings.otp_ttl_seconds,
        resend_after=sent.resend_after,
    )


@router.post("/v1/auth/token")
def sign_in(
    body: TokenRequest,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    crypto: CryptoDep,
    settings: SettingsDep,
) -> TokenPair:
    """Exchange phone + code for an access token and a refresh token. First sign-in creates the account."""
    user = service.verify_login_code(
        session, store, crypto, settings, body.phone, body.code, body.challenge, _client_ip(request)
    )
    return _pair(settings, service.issue_tokens(session, settings, user))


@router.post(
    "/v1/auth/refresh",
    response_model=TokenPair,
    responses={401: {"description": "Unknown, expired or reused"}},
)
def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair | JSONResponse:
    """Rotate the refresh token. Reusing an old one revokes every token of that sign-in."""
    outcome = service.rotate_refresh_token(session, settings, body.refresh_token)
    if isinstance(outcome, service.RefreshTokenReused):
        return error_response(outcome)  # returned, not raised: the revocation must commit
    return _pair(settings, outcome)


@router.post("/v1/auth/logout", status_code=204)
def logout(body: RefreshRequest, session: SessionDep) -> Response:
    service.logout(session, body.refresh_token)
    return Response(status_code=204)


def _identity(subject: Subject) -> Identity:
    return Identity(
        subject_id=subject.id, name=mask_name(subject.name or ""), id_number=subject.id_number_masked or ""
    )


@router.get("/v1/me")
def me(user: CurrentUser, session: SessionDep) -> Me:
    account = session.get(User, user.id)
    assert account is not None
    subject = session.get(Subject, account.subject_id) if account.subject_id else None
    return Me(
        id=account.id,
        phone=account.phone_masked,
        roles=sorted(account.roles),
        identity=_identity(subject) if subject else None,
        created_at=account.created_at,
    )


@router.put("/v1/me/identity")
def bind_identity(
    body: BindIdentityRequest, user: CurrentUser, session: SessionDep, crypto: CryptoDep
) -> Identity:
    """Bind your name and 身份证号 to your account (once). The number is stored encrypted and shown masked."""
    subject = service.bind_identity(session, crypto, user.id, body.name, body.id_number)
    return _identity(subject)


@router.get("/v1/me/identity")
def get_identity(user: CurrentUser, session: SessionDep) -> Identity:
    if user.subject_id is None:
        raise NotFound("No ID number is bound to this account yet.", code="identity_not_bound")
    subject = session.get(Subject, user.subject_id)
    assert subject is not None
    return _identity(subject)
