"""The offline deny list: what a partner's SDK must refuse even when it cannot ask the platform.

A compact JWS signed with the pass keys (same ``alg``, same ``kid``s, same JWKS), payload::

    {"v": <version>, "iat": <signed at>, "max_age": <seconds>, "salt": "<base64url, 16 bytes>",
     "hashes": ["<first 16 characters of base64url(HMAC-SHA256(key=salt bytes, message=handle))>", …]}

It lists the handles of unexpired offline codes that are revoked or already used, and every unexpired
offline code of a subject who is black-listed now. Handles are hashed under a salt that changes with every
version, so the list names no subject and two versions cannot be joined; the SDK hashes the handle it
scans with the list's salt and looks it up.

``v`` is the number of the ``PERIOD_SECONDS`` window it was built in (so it only grows); one worker builds
each version and the others serve the same bytes from the store. ``max_age``: past that many seconds
after ``iat``, the SDK must stop accepting offline codes until it has a fresher list. It is also the
default delay between publishing a new signing key and signing with it, so a kiosk whose list is fresh
enough has the new key too.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import Date, Table, literal
from sqlmodel import Session, SQLModel, col, select

from app.core.clock import business_date, utcnow
from app.core.security import Hasher, b64url
from app.core.store import KeyValueStore
from app.passes import tokens
from app.passes.models import OfflineCode
from app.records import service as records_service
from app.signing.keyring import Keyring
from app.signing.service import DEFAULT_DELAY

PERIOD_SECONDS = 60
MAX_AGE_SECONDS = int(DEFAULT_DELAY.total_seconds())  # 12 hours
HASH_CHARS = 16
_CODES: Table = SQLModel.metadata.tables[str(OfflineCode.__tablename__)]


def entry(salt: bytes, handle: str) -> str:
    return b64url(hmac.new(salt, handle.encode("ascii"), hashlib.sha256).digest())[:HASH_CHARS]


def denied_handles(session: Session, now: datetime) -> list[str]:
    """Unexpired offline codes that are revoked or used, and all unexpired codes of black-listed subjects.
    One statement: whether each code's subject is blocked is asked in it (the same condition as
    :func:`app.records.service.is_blocked`), not once per subject afterwards."""
    live_after = now - timedelta(seconds=tokens.LEEWAY_SECONDS)
    blocked = records_service.black_list_in_force(
        _CODES.c.subject_id, literal(business_date(now), type_=Date())
    )
    rows = session.execute(
        select(OfflineCode.handle, OfflineCode.revoked_at, OfflineCode.used_at, blocked).where(
            col(OfflineCode.expires_at) > live_after
        )
    ).all()
    return [
        handle
        for handle, revoked_at, used_at, subject_blocked in rows
        if revoked_at is not None or used_at is not None or subject_blocked
    ]


def build(session: Session, keyring: Keyring, hasher: Hasher, now: datetime) -> str:
    now_s = int(now.timestamp())
    version = now_s // PERIOD_SECONDS
    salt = bytes.fromhex(hasher.keyed(str(version), "deny_list_salt"))[:16]
    payload = {
        "v": version,
        "iat": now_s,
        "max_age": MAX_AGE_SECONDS,
        "salt": b64url(salt),
        "hashes": sorted(entry(salt, handle) for handle in denied_handles(session, now)),
    }
    return keyring.sign(session, payload, now)


def current(
    session: Session, store: KeyValueStore, keyring: Keyring, hasher: Hasher, now: datetime | None = None
) -> str:
    """This window's list: built once (by whichever worker asks first), then served from the store."""
    now = now or utcnow()
    key = f"denylist:{int(now.timestamp()) // PERIOD_SECONDS}"
    cached = store.get(key)
    if cached is not None:
        return cached
    token = build(session, keyring, hasher, now)
    if store.set_if_absent(key, token, 2 * PERIOD_SECONDS):
        return token
    return store.get(key) or token
