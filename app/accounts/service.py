"""Sign-in with phone + one-time code, access and refresh tokens, and binding an ID number.

One-time codes live in the key-value store, hashed, for ``otp_ttl_seconds``, each bound to a challenge
returned to whoever asked for it (a guess must name it); a code gets at most ``otp_max_attempts``
guesses, and sending and guessing are rate-limited per phone and per client IP (the real one behind
a trusted proxy: app.core.proxies). Store keys use the keyed hash of the phone number, never the number.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import jwt
from sqlalchemy import bindparam
from sqlalchemy import exists as sa_exists
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select, update

from app.accounts.models import RefreshToken, User
from app.core.clock import timestamp, utcnow
from app.core.config import Settings
from app.core.errors import AppError, Conflict, InvalidInput, NotFound, RateLimited, Unauthenticated
from app.core.ids import new_id
from app.core.principal import Principal
from app.core.security import Crypto, constant_time_equal, mask_phone, random_token, sha256_hex
from app.core.sms import SmsSender
from app.core.store import Delete, KeyValueStore
from app.core.validators import IdentifierError, validate_phone
from app.subjects import service as subjects_service
from app.subjects.models import Subject

ACCESS_TOKEN_AUDIENCE = "xinyi:api"  # noqa: S105 (an audience name)
REFRESH_PREFIX = "rt_"


def normalise_phone(raw: str, param: str = "phone") -> str:
    try:
        return validate_phone(raw)
    except IdentifierError as exc:
        raise InvalidInput(f"{param}: {exc.message}", code=exc.code, param=param) from None


def _code_digest(settings: Settings, phone_key: str, challenge_key: str, code: str) -> str:
    return hashlib.sha256(f"{settings.secret_key}:{phone_key}:{challenge_key}:{code}".encode()).hexdigest()


def _challenge_key(challenge: str) -> str:
    return hashlib.sha256(challenge.encode()).hexdigest()


@dataclass(frozen=True)
class CodeSent:
    phone: str
    challenge: str  # returned to the caller who asked, never sent by SMS: guesses need it
    resend_after: int


def send_login_code(
    store: KeyValueStore, crypto: Crypto, settings: Settings, sms: SmsSender, raw_phone: str, client_ip: str
) -> CodeSent:
    """Text a 6-digit code, and return the challenge it answers. Every code has its own challenge, so a
    stranger who asks for codes to someone's number neither replaces nor burns the owner's pending one.
    Per phone: one code a minute and ``otp_max_per_phone_per_window`` per ``otp_phone_window_seconds``,
    so a stranger holds the owner off for one window at most, never for a day."""
    phone = normalise_phone(raw_phone)
    phone_key = crypto.phone_hash(phone)
    ip_count = store.incr(f"otp:ip:{client_ip}", 3600)
    if ip_count > settings.otp_max_per_ip_per_hour:
        raise RateLimited("Too many codes requested from this network; try again later.", retry_after=3600)
    cooldown = settings.otp_resend_cooldown_seconds
    if not store.set_if_absent(f"otp:cooldown:{phone_key}", "1", cooldown):
        wait = store.ttl(f"otp:cooldown:{phone_key}") or cooldown
        raise RateLimited(
            "A code was sent to this number moments ago; wait before asking again.",
            retry_after=int(wait) + 1,
            code="otp_resend_too_soon",
            param="phone",
        )
    window_key = f"otp:window:{phone_key}"
    if store.incr(window_key, settings.otp_phone_window_seconds) > settings.otp_max_per_phone_per_window:
        wait = store.ttl(window_key) or settings.otp_phone_window_seconds
        raise RateLimited(
            "Too many codes for this number just now; try again in a few minutes.",
            retry_after=int(min(wait, settings.otp_phone_window_seconds)) + 1,
            code="otp_phone_limit",
            param="phone",
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge = "otc_" + random_token(24)
    challenge_key = _challenge_key(challenge)
    pending = json.dumps(
        {"phone": phone_key, "digest": _code_digest(settings, phone_key, challenge_key, code)}
    )
    store.set(f"otp:challenge:{challenge_key}", pending, settings.otp_ttl_seconds)
    try:
        sms.send_login_code(phone, code)
    except AppError:
        # Not sent: no code to guess, and the resident may ask again without waiting out the cooldown.
        store.batch([Delete(f"otp:challenge:{challenge_key}"), Delete(f"otp:cooldown:{phone_key}")])
        raise
    return CodeSent(phone, challenge, cooldown)


def verify_login_code(
    session: Session,
    store: KeyValueStore,
    crypto: Crypto,
    settings: Settings,
    raw_phone: str,
    code: str,
    challenge: str,
    client_ip: str,
) -> User:
    """Check ``code`` against the code sent with ``challenge``. A challenge takes ``otp_max_attempts``
    guesses while its phone has had fewer than ``otp_wrong_guesses_per_phone_per_day`` wrong ones today,
    and one guess after that: whoever guesses, the odds per phone per day stay bounded (README,
    Security), and the owner, who has the code, still signs in at the first try."""
    phone = normalise_phone(raw_phone)
    phone_key = crypto.phone_hash(phone)
    if store.incr(f"otp:verify-ip:{client_ip}", 3600) > settings.otp_verify_max_per_ip_per_hour:
        raise RateLimited("Too many sign-in attempts from this network; try again later.", retry_after=3600)
    challenge_key = _challenge_key(challenge)
    pending_key = f"otp:challenge:{challenge_key}"
    stored = store.get(pending_key)
    pending = json.loads(stored) if stored is not None else None
    if pending is None or not constant_time_equal(pending["phone"], phone_key):
        raise InvalidInput(
            "No valid code for this number: it expired or was never sent.", code="otp_expired", param="code"
        )
    wrong_key = f"otp:wrong:{phone_key}"
    wrong_today = int(store.get(wrong_key) or 0)
    allowed = settings.otp_max_attempts if wrong_today < settings.otp_wrong_guesses_per_phone_per_day else 1
    attempts_key = f"otp:attempts:{challenge_key}"
    attempts = store.incr(attempts_key, settings.otp_ttl_seconds)
    if attempts > allowed:
        store.delete(pending_key)
        raise RateLimited(
            "Too many wrong codes; request a new one.",
            retry_after=1,
            code="otp_too_many_attempts",
            param="code",
        )
    if not (code.isdigit() and len(code) == 6) or not constant_time_equal(
        pending["digest"], _code_digest(settings, phone_key, challenge_key, code)
    ):
        store.incr(wrong_key, 24 * 3600)
        left = allowed - attempts
        if left <= 0:
            store.delete(pending_key)
        raise InvalidInput(
            f"The code is wrong; {left} attempt(s) left.",
            code="otp_invalid",
            param="code",
            extra={"attempts_left": left},
        )
    store.batch([Delete(pending_key), Delete(attempts_key)])
    user = session.exec(select(User).where(User.phone_hash == phone_key)).first()
    if user is None:
        user = User(phone_hash=phone_key, phone_masked=mask_phone(phone))
        session.add(user)
        session.flush()
    elif user.closed_at is not None:
        raise Unauthenticated("This account is closed.", code="account_closed")
    return user


def get_or_create_user_by_phone(
    session: Session, crypto: Crypto, raw_phone: str, param: str = "phone"
) -> User:
    phone = normalise_phone(raw_phone, param)
    phone_key = crypto.phone_hash(phone)
    user = session.exec(select(User).where(User.phone_hash == phone_key)).first()
    if user is None:
        user = User(phone_hash=phone_key, phone_masked=mask_phone(phone))
        session.add(user)
        session.flush()
    return user


def find_user_by_phone(session: Session, crypto: Crypto, raw_phone: str, param: str = "phone") -> User:
    phone = normalise_phone(raw_phone, param)
    user = session.exec(select(User).where(User.phone_hash == crypto.phone_hash(phone))).first()
    if user is None:
        raise NotFound(
            "No account has this phone number; they must sign in once first.",
            code="user_not_found",
            param=param,
        )
    return user


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    user_id: str


def _access_token(settings: Settings, user: User, family_id: str) -> str:
    now = utcnow()
    claims = {
        "sub": user.id,
        "sid": family_id,  # the sign-in (refresh-token family): revoking it ends this token at once
        "aud": ACCESS_TOKEN_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + settings.access_token_ttl_seconds,
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, settings.secret_key, algorithm="HS256")


def _new_refresh_token(session: Session, settings: Settings, user: User, family_id: str) -> str:
    token = REFRESH_PREFIX + random_token(32)
    session.add(
        RefreshToken(
            family_id=family_id,
            user_id=user.id,
            token_hash=sha256_hex(token),
            expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    session.flush()
    return token


def issue_tokens(session: Session, settings: Settings, user: User) -> IssuedTokens:
    family_id = new_id("rtf")
    refresh = _new_refresh_token(session, settings, user, family_id)
    return IssuedTokens(_access_token(settings, user, family_id), refresh, user.id)


class RefreshTokenReused(Unauthenticated):
    code = "refresh_token_reused"

    def __init__(self) -> None:
        super().__init__(
            "This refresh token was already used; every session of this sign-in is now revoked.",
            param="refresh_token",
        )


def rotate_refresh_token(
    session: Session, settings: Settings, token: str
) -> IssuedTokens | RefreshTokenReused:
    """Trade a refresh token for a new pair. A token presented twice means a copy is in someone else's
    hands: the whole family is revoked and both holders must sign in again.

    The refusal for a reused token is *returned*, not raised, because the revocation must be committed
    with it; the router turns it into the 401."""
    row = session.exec(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(token))).first()
    now = utcnow()
    if row is None:
        raise Unauthenticated("Unknown refresh token.", code="invalid_refresh_token", param="refresh_token")
    if row.used_at is not None or row.revoked_at is not None:
        revoke_family(session, row.family_id)
        return RefreshTokenReused()
    if row.expires_at <= now:
        raise Unauthenticated(
            "The refresh token expired; sign in again.", code="refresh_token_expired", param="refresh_token"
        )
    user = session.get(User, row.user_id)
    if user is None or user.closed_at is not None:
        raise Unauthenticated("This account is closed.", code="account_closed")
    # Claim the row atomically: of two concurrent refreshes with one token, only one wins.
    claimed = session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        revoke_family(session, row.family_id)
        return RefreshTokenReused()
    refresh = _new_refresh_token(session, settings, user, row.family_id)
    return IssuedTokens(_access_token(settings, user, row.family_id), refresh, user.id)


def revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def logout(session: Session, token: str) -> None:
    row = session.exec(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(token))).first()
    if row is not None:
        revoke_family(session, row.family_id)


# Built once: every signed-in request reads it. Plain columns: the principal needs nothing more. Whether
# the token's sign-in was ended (logout, a reused refresh token) rides in the same statement, so a
# revoked session fails on its next request without another round trip.
_SESSION_ENDED = (
    sa_exists()
    .where(col(RefreshToken.family_id) == bindparam("sid"), col(RefreshToken.revoked_at).is_not(None))
    .label("session_ended")
)
_SIGNED_IN_USER = sa_select(
    col(User.id), col(User.roles), col(User.subject_id), col(User.closed_at), _SESSION_ENDED
).where(col(User.id) == bindparam("user_id"))


@lru_cache(maxsize=8192)
def _access_claims(token: str, secret: str) -> tuple[str, int, str | None]:
    """(user id, ``exp``, sign-in id) of an access token whose signature, audience and claims check out; its expiry
    is checked by the caller at every use. Kept: a phone sends the same token for its whole lifetime
    (a pass every 60-90 s), and PyJWT's checks were a tenth of a pass's CPU. Bounded (8,192 tokens, a
    few MB); a refused token raises and is not kept."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=ACCESS_TOKEN_AUDIENCE,
        # Times are checked against the service's clock by the caller, not PyJWT's own wall clock.
        options={"require": ["exp", "iat", "sub", "aud"], "verify_exp": False, "verify_iat": False},
    )
    try:
        exp = int(claims["exp"])  # as PyJWT reads it
    except (TypeError, ValueError):
        raise jwt.DecodeError("exp must be an integer") from None
    sid = claims.get("sid")
    return str(claims["sub"]), exp, sid if isinstance(sid, str) else None


def principal_from_access_token(session: Session, settings: Settings, token: str) -> Principal:
    """The signed-in user behind an access token; the account is read every time (a closed account is
    refused at once)."""
    try:
        user_id, exp, sid = _access_claims(token, settings.secret_key)
    except jwt.InvalidTokenError:
        raise Unauthenticated(
            "The access token is not valid.",
            code="invalid_access_token",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    if exp <= timestamp():  # as PyJWT checks it, with no leeway
        raise Unauthenticated(
            "The access token expired; refresh it.",
            code="access_token_expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = session.execute(_SIGNED_IN_USER, {"user_id": user_id, "sid": sid}).first()
    if found is None or found.closed_at is not None:
        raise Unauthenticated("This account no longer exists.", code="invalid_access_token")
    if found.session_ended:
        raise Unauthenticated(
            "This sign-in was ended (signed out, or its refresh token was reused); sign in again.",
            code="session_ended",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Principal(type="user", id=found.id, roles=frozenset(found.roles), subject_id=found.subject_id)


def bind_identity(session: Session, crypto: Crypto, user_id: str, name: str, raw_id_number: str) -> Subject:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    id_number = subjects_service.normalise_id_number(raw_id_number)
    id_hash = crypto.id_number_hash(id_number)
    if user.subject_id is not None:
        current = session.get(Subject, user.subject_id)
        if current is not None and current.id_number_hash == id_hash:
            return current
        raise Conflict(
            "This account already has an ID number bound.", code="identity_already_bound", param="id_number"
        )
    subject = subjects_service.get_or_create_person(session, crypto, id_number, name=name)
    owner = session.exec(select(User).where(User.subject_id == subject.id)).first()
    if owner is not None:
        raise Conflict(
            "This ID number is already bound to another account.",
            code="id_number_already_bound",
            param="id_number",
        )
    subject.name = name.strip()
    user.subject_id = subject.id
    session.add_all([subject, user])
    session.flush()
    return subject
