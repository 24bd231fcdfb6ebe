"""Dependencies that read like English (STYLE.md): who is calling, and what they may do.

``Authorization: Bearer <token>`` carries either a user's access token (a JWT) or a partner API key
(``xyk_…``). Every handler names the kind of caller it accepts::

    def handler(user: CurrentUser, ...)        # any signed-in user
    def handler(op: OperatorDep, ...)          # a user with the operator role
    def handler(partner: PartnerDep, ...)      # a partner API key

The hot path's ``async def`` handlers (verifying and issuing passes) name the ``…OnLoop`` twins, which
read the caller in the request's ``AsyncSession`` instead of on a worker thread, and ``StoreOnLoopDep``,
the store awaited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.accounts import service as accounts_service
from app.core.config import Settings
from app.core.db import AsyncSessionDep, SessionDep
from app.core.errors import Forbidden, Unauthenticated
from app.core.principal import Principal
from app.core.security import Crypto
from app.core.store import KeyValueStore, KeyValueStoreOnLoop
from app.partners import service as partners_service

_bearer = HTTPBearer(auto_error=False, description="A user access token or a partner API key (xyk_…).")


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> KeyValueStore:
    store: KeyValueStore = request.app.state.store
    return store


async def get_store_on_loop(request: Request) -> KeyValueStoreOnLoop:
    store: KeyValueStoreOnLoop = request.app.state.store_on_loop
    return store


async def get_crypto(request: Request) -> Crypto:
    crypto: Crypto = request.app.state.crypto
    return crypto


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[KeyValueStore, Depends(get_store)]
StoreOnLoopDep = Annotated[KeyValueStoreOnLoop, Depends(get_store_on_loop)]  # for ``async def`` handlers
CryptoDep = Annotated[Crypto, Depends(get_crypto)]


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def authenticate(
    request: Request,
    session: Session,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
) -> Principal:
    """The caller behind ``Authorization: Bearer …``, read in the request's session."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated(
            "Send 'Authorization: Bearer <token>'.",
            code="missing_credentials",
            param="Authorization",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = credentials.credentials
    if token.startswith(partners_service.API_KEY_PREFIX):
        principal = partners_service.principal_from_api_key(session, token)
    else:
        principal = accounts_service.principal_from_access_token(session, settings, token)
    request.state.principal_id = f"{principal.type}:{principal.id}"
    return principal


def authenticated_principal(
    request: Request, session: SessionDep, settings: SettingsDep, credentials: BearerDep
) -> Principal:
    return authenticate(request, session, settings, credentials)


async def authenticated_principal_on_loop(
    request: Request, session: AsyncSessionDep, settings: SettingsDep, credentials: BearerDep
) -> Principal:
    """The same check for a handler on the event loop, in its ``AsyncSession`` (no worker thread)."""
    return await session.run_sync(
        lambda sync_session: authenticate(request, sync_session, settings, credentials)
    )


PrincipalDep = Annotated[Principal, Depends(authenticated_principal)]
PrincipalOnLoopDep = Annotated[Principal, Depends(authenticated_principal_on_loop)]


def ensure_user(principal: Principal) -> Principal:
    if principal.type != "user":
        raise Forbidden("This endpoint is for signed-in users, not API keys.", code="user_required")
    return principal


async def current_user(principal: PrincipalDep) -> Principal:
    return ensure_user(principal)


def ensure_partner(principal: Principal) -> Principal:
    if principal.type != "partner":
        raise Forbidden("This endpoint needs a partner API key.", code="partner_required")
    return principal


def ensure_scope(partner: Principal, scope: str) -> Principal:
    if scope not in partner.scopes:
        raise Forbidden(f"This API key lacks the {scope} scope.", code="scope_required")
    return partner


async def current_partner(principal: PrincipalDep) -> Principal:
    return ensure_partner(principal)


async def current_user_on_loop(principal: PrincipalOnLoopDep) -> Principal:
    return ensure_user(principal)


async def current_partner_on_loop(principal: PrincipalOnLoopDep) -> Principal:
    return ensure_partner(principal)


CurrentUser = Annotated[Principal, Depends(current_user)]
PartnerDep = Annotated[Principal, Depends(current_partner)]
# For ``async def`` handlers, whose session is an AsyncSession (app.core.request_session).
CurrentUserOnLoop = Annotated[Principal, Depends(current_user_on_loop)]
PartnerOnLoopDep = Annotated[Principal, Depends(current_partner_on_loop)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(user: CurrentUser) -> Principal:
        if not user.roles.intersection(roles):
            raise Forbidden(f"This needs the {' or '.join(roles)} role.", code="role_required")
        return user

    return check


def require_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(partner: PartnerDep) -> Principal:
        return ensure_scope(partner, scope)

    return check


def require_scope_on_loop(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(partner: PartnerOnLoopDep) -> Principal:
        return ensure_scope(partner, scope)

    return check


OperatorDep = Annotated[Principal, Depends(require_role("operator"))]
AuditorDep = Annotated[Principal, Depends(require_role("auditor", "operator"))]
