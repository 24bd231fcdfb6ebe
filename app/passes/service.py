"""Issuing passes: the rotating online pass and the pre-issued offline codes.

Online pass: nothing is written to the database. The token, its owner and its subject are kept in the
key-value store under the pass id for as long as the token can be verified (``exp`` + leeway); the pass
id is a keyed hash of the handle, so a verification finds the pass from the token alone, and nobody can
find the handle from the pass id seen in an image URL. Issuing is one store write, a signature and a QR
render: a few milliseconds.

Offline codes: a row each (:class:`~app.passes.models.OfflineCode`), only for low-value scenarios the
subject is eligible for when they are issued, at most ``MAX_LIVE_OFFLINE_CODES`` live at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, RateLimited
from app.core.principal import Principal
from app.core.security import Hasher
from app.core.store import Delete, Incr, KeyValueStore, KeyValueStoreOnLoop, Set
from app.passes import qr, tokens
from app.passes.models import OfflineCode
from app.scenarios import service as scenarios_service
from app.scenarios.catalog import Catalog
from app.signing.keyring import Keyring

PASSES_PER_MINUTE = 30  # a phone refreshing every 60-90 s needs one or two
MAX_LIVE_OFFLINE_CODES = 10

PassKind = Literal["online", "offline"]


@dataclass(frozen=True)
class IssuedPass:
    id: str
    kind: PassKind
    token: str
    scenario: str | None
    not_before: datetime
    expires_at: datetime
    qr_version: int
    qr_text: str  # the numeric content of the QR code
    svg: str


@dataclass(frozen=True)
class OnlinePass:
    """What the store holds about a live online pass."""

    id: str
    user_id: str
    subject_id: str
    token: str
    expires: int
    revoked: bool


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _store_key(pass_id: str) -> str:
    return f"passmeta:{pass_id}"


def online_pass_id(hasher: Hasher, handle: str) -> str:
    return "pas_" + hasher.keyed(handle, "pass_id")[:26]


def bound_subject(user: Principal) -> str:
    if user.subject_id is None:
        raise Conflict(
            "Bind your ID number (PUT /v1/me/identity) before asking for a pass.", code="identity_not_bound"
        )
    return user.subject_id


def render(token: str) -> tuple[int, str, str]:
    """(QR version, numeric content, SVG): version 10 for an online pass, the smallest above that holds
    anything longer."""
    digits = qr.to_numeric(token)
    version, modules = qr.encode(digits)
    return version, digits, qr.svg(modules)


def _issued(pass_id: str, kind: PassKind, token: str, claims: tokens.PassClaims) -> IssuedPass:
    version, digits, svg = render(token)
    return IssuedPass(
        id=pass_id,
        kind=kind,
        token=token,
        scenario=claims.scenario,
        not_before=_at(claims.not_before),
        expires_at=_at(claims.expires),
        qr_version=version,
        qr_text=digits,
        svg=svg,
    )


# --- online ------------------------------------------------------------------------------------------


async def issue_online(
    session: AsyncSession,
    store: KeyValueStoreOnLoop,
    keyring: Keyring,
    hasher: Hasher,
    user: Principal,
    now: datetime | None = None,
) -> IssuedPass:
    subject_id = bound_subject(user)
    now = now or utcnow()
    now_s = int(now.timestamp())
    handle = tokens.new_handle()
    claims = tokens.online_claims(handle, now_s)
    # (``run_sync`` is annotated with SQLAlchemy's Session; SQLModel's AsyncSession hands ``fn`` its own.)
    token = await session.run_sync(keyring.sign, claims, now)  # type: ignore[arg-type]
    pass_id = online_pass_id(hasher, handle)
    record = {"u": user.id, "s": subject_id, "t": token, "x": claims["exp"]}
    # The rate count and the pass record in one round trip; a refused pass's record is taken back (the
    # token was never shown, so nobody could have used it meanwhile).
    key = _store_key(pass_id)
    ttl = claims["exp"] + tokens.LEEWAY_SECONDS - now_s
    asked, _ = await store.batch([Incr(f"passes:rate:{user.id}", 60), Set(key, json.dumps(record), ttl)])
    if asked > PASSES_PER_MINUTE:
        await store.batch([Delete(key)])
        raise RateLimited(
            "Too many passes asked for; the one you have is valid for 90 seconds.", retry_after=60
        )
    return _issued(pass_id, "online", token, tokens.PassClaims(handle, claims["nbf"], claims["exp"], None))


def online_record_key(hasher: Hasher, handle: str) -> tuple[str, str]:
    """(pass id, store key) of the online pass with this handle, for a caller that reads the record in a
    batch (:func:`parse_online` reads what the store returned)."""
    pass_id = online_pass_id(hasher, handle)
    return pass_id, _store_key(pass_id)


def parse_online(pass_id: str, raw: str | None) -> OnlinePass | None:
    if raw is None:
        return None
    record = json.loads(raw)
    return OnlinePass(pass_id, record["u"], record["s"], record["t"], record["x"], bool(record.get("r")))


def get_online(store: KeyValueStore, pass_id: str) -> OnlinePass | None:
    return parse_online(pass_id, store.get(_store_key(pass_id)))


def _revoke_online(store: KeyValueStore, user: Principal, pass_id: str) -> None:
    found = get_online(store, pass_id)
    if found is None or found.user_id != user.id:
        raise NotFound("No live pass of yours has this id.", code="pass_not_found", param="pass_id")
    left = store.ttl(_store_key(pass_id))
    if not found.revoked and left:
        record = {"u": found.user_id, "s": found.subject_id, "t": found.token, "x": found.expires, "r": 1}
        store.set(_store_key(pass_id), json.dumps(record), left)


# --- offline -----------------------------------------------------------------------------------------


def _live_codes(session: Session, subject_id: str, now: datetime) -> int:
    statement = select(func.count()).where(
        OfflineCode.subject_id == subject_id,
        col(OfflineCode.expires_at) > now,
        col(OfflineCode.revoked_at).is_(None),
        col(OfflineCode.used_at).is_(None),
    )
    return int(session.exec(statement).one())


def issue_offline(
    session: Session,
    keyring: Keyring,
    catalog: Catalog,
    user: Principal,
    scenario_id: str,
    count: int,
    hours: int | None = None,
    now: datetime | None = None,
) -> list[IssuedPass]:
    """Up to ``MAX_LIVE_OFFLINE_CODES`` single-use codes for one low-value scenario the subject is
    eligible for now, each valid ``hours`` (at most the scenario's ``offline_max_hours``, 24)."""
    subject_id = bound_subject(user)
    scenario = catalog.get(scenario_id)
    if scenario is None:
        raise InvalidInput("No scenario with this id.", code="unknown_scenario", param="scenario")
    if not scenario.low_value or scenario.offline_max_hours is None:
        raise InvalidInput(
            "This scenario's benefit always needs the online check; it has no offline codes.",
            code="scenario_not_offline",
            param="scenario",
        )
    lifetime = scenario.offline_max_hours if hours is None else hours
    if not 1 <= lifetime <= scenario.offline_max_hours:
        raise InvalidInput(
            f"hours: between 1 and {scenario.offline_max_hours} for this scenario.",
            code="invalid_hours",
            param="hours",
        )
    now = now or utcnow()
    live = _live_codes(session, subject_id, now)
    if live + count > MAX_LIVE_OFFLINE_CODES:
        raise Conflict(
            f"You hold {live} unused offline codes; at most {MAX_LIVE_OFFLINE_CODES} at a time.",
            code="offline_code_limit",
            param="count",
        )
    evaluation = scenarios_service.evaluate(scenario, scenarios_service.subject_standing(session, subject_id))
    if not evaluation.eligible:
        raise Conflict(
            "You are not eligible for this scenario now, so no offline codes can be issued for it.",
            code="not_eligible",
            param="scenario",
            extra={
                "reason": evaluation.reason,
                "reason_labels": scenarios_service.reason_labels(evaluation.reason),
            },
        )
    now_s = int(now.timestamp())
    not_before = now_s - tokens.NOT_BEFORE_BACKDATE_SECONDS
    expires = now_s + lifetime * 3600
    issued = []
    for _ in range(count):
        handle = tokens.new_handle()
        key = keyring.signer(session, now)
        claims = tokens.offline_claims(handle, scenario.id, not_before, expires)
        code = OfflineCode(
            handle=handle,
            subject_id=subject_id,
            user_id=user.id,
            scenario=scenario.id,
            kid=key.kid,
            not_before=_at(not_before),
            expires_at=_at(expires),
        )
        session.add(code)
        token = keyring.sign(session, claims, now)
        issued.append(
            _issued(code.id, "offline", token, tokens.PassClaims(handle, not_before, expires, scenario.id))
        )
    session.flush()
    return issued


def offline_token(session: Session, keyring: Keyring, code: OfflineCode) -> str | None:
    """The code's token, signed again: Ed25519 signatures are deterministic, so it is the same token."""
    claims = tokens.offline_claims(
        code.handle, code.scenario, int(code.not_before.timestamp()), int(code.expires_at.timestamp())
    )
    return keyring.sign_with(session, code.kid, claims)


def live_offline_codes(session: Session, user: Principal, now: datetime | None = None) -> list[OfflineCode]:
    subject_id = bound_subject(user)
    statement = (
        select(OfflineCode)
        .where(OfflineCode.subject_id == subject_id, col(OfflineCode.expires_at) > (now or utcnow()))
        .order_by(col(OfflineCode.id).desc())
    )
    return list(session.exec(statement).all())


def offline_code_of(session: Session, user: Principal, pass_id: str) -> OfflineCode:
    code = session.get(OfflineCode, pass_id)
    if code is None or code.subject_id != user.subject_id:
        raise NotFound("No offline code of yours has this id.", code="pass_not_found", param="pass_id")
    return code


def by_handle(session: Session, handle: str) -> OfflineCode | None:
    return session.exec(select(OfflineCode).where(OfflineCode.handle == handle)).first()


def mark_used(session: Session, code: OfflineCode, at: datetime) -> bool:
    """Record the first use; False when the code had been used before. Atomic: of two concurrent first
    uses, the row lock lets exactly one set ``used_at``."""
    result = session.execute(
        update(OfflineCode)
        .where(col(OfflineCode.id) == code.id, col(OfflineCode.used_at).is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    first = result.rowcount == 1  # type: ignore[attr-defined]
    session.refresh(code)
    return first


def revoke(
    session: Session, store: KeyValueStore, user: Principal, pass_id: str, now: datetime | None = None
) -> None:
    """Revoke one pass or offline code of yours: verifications of it are refused from now on."""
    if pass_id.startswith("pas_"):
        _revoke_online(store, user, pass_id)
        return
    code = offline_code_of(session, user, pass_id)
    if code.revoked_at is None:
        code.revoked_at = now or utcnow()
        session.add(code)
        session.flush()


def revoke_all_offline(session: Session, user: Principal, now: datetime | None = None) -> int:
    """Revoke every offline code of yours still valid (a lost phone). Returns how many."""
    subject_id = bound_subject(user)
    now = now or utcnow()
    result = session.execute(
        update(OfflineCode)
        .where(
            col(OfflineCode.subject_id) == subject_id,
            col(OfflineCode.expires_at) > now - timedelta(seconds=tokens.LEEWAY_SECONDS),
            col(OfflineCode.revoked_at).is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
