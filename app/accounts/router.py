from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.accounts import schemas, service
from app.accounts.models import User
from app.core.db import SessionDep
from app.core.errors import NotFound, Unauthenticated, error_response
from app.core.idempotency import AppRoute
from app.core.security import mask_name
from app.deps import CryptoDep, CurrentUser, SettingsDep, StoreDep
from app.subjects.models import Subject

router = APIRouter(route_class=AppRoute, tags=["accounts"])

# Cookie mode (the resident web app): the refresh token lives in an HttpOnly cookie that only the
# /v1/auth calls receive, so page scripts never see it; the access token stays in the page's memory.
# SameSite=Strict keeps other sites from sending it, and no other origin may read a response (no CORS).
REFRESH_COOKIE = "xinyi_refresh"
REFRESH_COOKIE_PATH = "/v1/auth"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _pair(
    settings: SettingsDep, issued: service.IssuedTokens, request: Request, response: Response, cookie: bool
) -> schemas.TokenPair:
    if cookie:
        response.set_cookie(
            REFRESH_COOKIE,
            issued.refresh_token,
            max_age=settings.refresh_token_ttl_seconds,
            path=REFRESH_COOKIE_PATH,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        response.headers["Cache-Control"] = "no-store"
    return schemas.TokenPair(
        access_token=issued.access_token,
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=None if cookie else issued.refresh_token,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
        user_id=issued.user_id,
    )


def _presented(body: schemas.RefreshRequest | None, request: Request) -> tuple[str, bool]:
    """The refresh token of the body, else of the cookie (cookie mode), and whether it was the cookie."""
    if body is not None and body.refresh_token:
        return body.refresh_token, False
    cookie = request.cookies.get(REFRESH_COOKIE)
    if not cookie:
        raise Unauthenticated(
            "Send refresh_token, or sign in with cookie mode first.",
            code="missing_refresh_token",
            param="refresh_token",
        )
    return cookie, True


def _clear_cookie(response: Response) -> None:
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, httponly=True, samesite="strict")


@router.post("/v1/auth/otp", status_code=202)
def request_login_code(
    body: schemas.OtpRequest, request: Request, store: StoreDep, crypto: CryptoDep, settings: SettingsDep
) -> schemas.OtpSent:
    """Send a 6-digit sign-in code by SMS. The code is never returned over HTTP."""
    sent = service.send_login_code(
        store, crypto, settings, request.app.state.sms_sender, body.phone, _client_ip(request)
    )
    return schemas.OtpSent(
        phone=sent.phone[:3] + "****" + sent.phone[-4:],
        challenge=sent.challenge,
        expires_in=settings.otp_ttl_seconds,
        resend_after=sent.resend_after,
    )


@router.post("/v1/auth/token")
def sign_in(
    body: schemas.TokenRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    store: StoreDep,
    crypto: CryptoDep,
    settings: SettingsDep,
) -> schemas.TokenPair:
    """Exchange phone + code for an access token and a refresh token. First sign-in creates the account."""
    user = service.verify_login_code(
        session, store, crypto, settings, body.phone, body.code, body.challenge, _client_ip(request)
    )
    return _pair(settings, service.issue_tokens(session, settings, user), request, response, body.cookie)


@router.post(
    "/v1/auth/refresh",
    response_model=schemas.TokenPair,
    responses={401: {"description": "Unknown, expired or reused"}},
)
def refresh(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    body: schemas.RefreshRequest | None = None,
) -> schemas.TokenPair | JSONResponse:
    """Rotate the refresh token (of the body, else of the cookie). Reusing an old one revokes every
    token of that sign-in."""
    token, from_cookie = _presented(body, request)
    outcome = service.rotate_refresh_token(session, settings, token)
    if isinstance(outcome, service.RefreshTokenReused):
        refused = error_response(outcome)  # returned, not raised: the revocation must commit
        if from_cookie:
            _clear_cookie(refused)
        return refused
    return _pair(settings, outcome, request, response, from_cookie)


@router.post("/v1/auth/logout", status_code=204, responses={401: {"description": "missing_refresh_token"}})
def logout(request: Request, session: SessionDep, body: schemas.RefreshRequest | None = None) -> Response:
    """End the sign-in of this refresh token (of the body, else of the cookie, which is cleared)."""
    token, from_cookie = _presented(body, request)
    service.logout(session, token)
    response = Response(status_code=204)
    if from_cookie:
        _clear_cookie(response)
    return response


def _identity(subject: Subject) -> schemas.Identity:
    return schemas.Identity(
        subject_id=subject.id, name=mask_name(subject.name or ""), id_number=subject.id_number_masked or ""
    )


@router.get("/v1/me")
def me(user: CurrentUser, session: SessionDep) -> schemas.Me:
    account = session.get(User, user.id)
    assert account is not None
    subject = session.get(Subject, account.subject_id) if account.subject_id else None
    return schemas.Me(
        id=account.id,
        phone=account.phone_masked,
        roles=sorted(account.roles),
        identity=_identity(subject) if subject else None,
        created_at=account.created_at,
    )


@router.put("/v1/me/identity")
def bind_identity(
    body: schemas.BindIdentityRequest, user: CurrentUser, session: SessionDep, crypto: CryptoDep
) -> schemas.Identity:
    """Bind your name and 身份证号 to your account (once). The number is stored encrypted and shown masked."""
    subject = service.bind_identity(session, crypto, user.id, body.name, body.id_number)
    return _identity(subject)


@router.get("/v1/me/identity")
def get_identity(user: CurrentUser, session: SessionDep) -> schemas.Identity:
    if user.subject_id is None:
        raise NotFound("No ID number is bound to this account yet.", code="identity_not_bound")
    subject = session.get(Subject, user.subject_id)
    assert subject is not None
    return _identity(subject)
