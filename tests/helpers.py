"""Small helpers shared by tests: valid identifiers, signing in, snapshots of whole tables, a loop of
one's own."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from anyio.from_thread import start_blocking_portal
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from app.core.clock import utcnow
from app.core.config import Settings
from app.core.sms import RecordingSender
from app.subjects.identifiers import USCC_ALPHABET, id_number_check_char, uscc_check_char

T = TypeVar("T")


def on_a_loop(run: Callable[[], Awaitable[T]]) -> T:
    """``run()`` on an event loop in a thread of its own: the test's thread may already hold a running
    loop (Playwright's sync API keeps one for the browser tests), where ``asyncio.run`` is refused."""
    with start_blocking_portal() as portal:
        return portal.call(run)


def make_id_number(region: str = "650102", born: str = "19900307", seq: str | None = None) -> str:
    seq = seq if seq is not None else f"{random.randrange(1000):03d}"
    first17 = region + born + seq
    return first17 + id_number_check_char(first17)


def make_uscc(body: str | None = None) -> str:
    body = body or "91650100" + "".join(random.choice(USCC_ALPHABET[:10]) for _ in range(9))
    return body + uscc_check_char(body)


def make_phone() -> str:
    return "13" + "".join(str(random.randrange(10)) for _ in range(9))


def sign_in(client: TestClient, sms: RecordingSender, phone: str) -> dict[str, Any]:
    """Full OTP flow. Returns the token pair plus ready-made ``headers``."""
    response = client.post("/v1/auth/otp", json={"phone": phone})
    assert response.status_code == 202, response.text
    challenge = response.json()["challenge"]
    response = client.post(
        "/v1/auth/token", json={"phone": phone, "code": sms.codes[phone], "challenge": challenge}
    )
    assert response.status_code == 200, response.text
    pair = response.json()
    pair["headers"] = {"Authorization": f"Bearer {pair['access_token']}"}
    return pair


def sign_in_with_role(client: TestClient, sms: RecordingSender, db: Session, role: str) -> dict[str, str]:
    """A new user with ``role`` (operator, auditor), signed in: their ``Authorization`` headers."""
    from app.accounts.models import User

    pair = sign_in(client, sms, make_phone())
    user = db.get(User, pair["user_id"])
    assert user is not None
    user.roles = [role]
    db.add(user)
    db.commit()  # releases the test's savepoint only; the outer transaction is still rolled back
    headers: dict[str, str] = pair["headers"]
    return headers


def refresh(client: TestClient, who: dict[str, Any]) -> None:
    """Trade ``who``'s refresh token for a new pair and use it from now on, as the app does when it comes
    back after its 15-minute access token expired (a test that moves the clock by days)."""
    response = client.post("/v1/auth/refresh", json={"refresh_token": who["refresh_token"]})
    assert response.status_code == 200, response.text
    pair = response.json()
    who["refresh_token"] = pair["refresh_token"]
    who["headers"] = {"Authorization": f"Bearer {pair['access_token']}"}


def table_snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for asserting that a refused call changed nothing."""
    session.flush()
    snapshot = {}
    for name in sorted(SQLModel.metadata.tables):
        rows = session.execute(text(f'SELECT * FROM "{name}"')).all()  # noqa: S608 (names from metadata)
        snapshot[name] = sorted(tuple(map(repr, row)) for row in rows)
    return snapshot


def process_env(settings: Settings) -> dict[str, str]:
    """The environment of a server or worker process started by a test: this run's settings as
    ``XINYI_`` variables, nothing else of the test runner's ``XINYI_`` ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINYI_")}
    env.update(
        XINYI_ENV="test",
        XINYI_DATABASE_URL=settings.database_url,
        XINYI_SECRET_KEY=settings.secret_key,
        XINYI_ID_ENCRYPTION_KEYS=json.dumps(settings.id_encryption_keys),
        XINYI_ID_ENCRYPTION_ACTIVE_KID=settings.id_encryption_active_kid,
        XINYI_ID_HASH_KEY=settings.id_hash_key,
        XINYI_AUDIT_HMAC_KEYS=json.dumps(settings.audit_hmac_keys),
        XINYI_AUDIT_HMAC_ACTIVE_KID=settings.audit_hmac_active_kid,
        XINYI_LOG_JSON="true",
        # The process runs on the suite's pinned clock, not the machine's date (app.core.clock).
        XINYI_CLOCK_AT=utcnow().isoformat(),
    )
    return env
