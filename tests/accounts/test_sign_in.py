"""Sign-in with phone + one-time code, and the refresh-token family."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import RefreshToken, User
from app.core.sms import RecordingSender
from tests.core.test_errors import assert_problem
from tests.helpers import make_phone, sign_in, table_snapshot


def test_first_sign_in_creates_the_account(client: TestClient, sms: RecordingSender, db: Session) -> None:
    phone = make_phone()
    sent = client.post("/v1/auth/otp", json={"phone": "+86 " + phone})
    assert sent.status_code == 202
    challenge = sent.json()["challenge"]
    assert challenge.startswith("otc_") and len(challenge) > 30
    assert sent.json() == {
        "phone": phone[:3] + "****" + phone[-4:],
        "challenge": challenge,
        "expires_in": 300,
        "resend_after": 60,
    }
    code = sms.codes[phone]
    assert code not in sent.text  # the code never travels over HTTP
    response = client.post("/v1/auth/token", json={"phone": phone, "code": code, "challenge": challenge})
    assert response.status_code == 200
    pair = response.json()
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 900
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).json()
    assert me["id"] == pair["user_id"]
    assert me["roles"] == []
    assert me["identity"] is None
    assert db.exec(select(User).where(User.id == pair["user_id"])).one().phone_masked == me["phone"]


def test_signing_in_again_finds_the_same_account(app, client: TestClient, sms: RecordingSender) -> None:
    phone = make_phone()
    first = sign_in(client, sms, phone)
    app.state.store.delete(f"otp:cooldown:{app.state.crypto.phone_hash(phone)}")  # skip the resend wait
    second = sign_in(client, sms, phone)
    assert first["user_id"] == second["user_id"]


@pytest.mark.parametrize("phone", ["12345", "2380013800a", "138001380001"])
def test_malformed_phone_is_refused_and_nothing_is_sent(
    client: TestClient, sms: RecordingSender, phone: str
) -> None:
    assert_problem(client.post("/v1/auth/otp", json={"phone": phone}), 422, "invalid_phone", "phone")
    assert sms.codes == {}


def test_wrong_code_is_refused_and_counts_down(client: TestClient, sms: RecordingSender, db: Session) -> None:
    phone = make_phone()
    challenge = client.post("/v1/auth/otp", json={"phone": phone}).json()["challenge"]
    wrong = "000000" if sms.codes[phone] != "000000" else "111111"
    before = table_snapshot(db)
    body = assert_problem(
        client.post("/v1/auth/token", json={"phone": phone, "code": wrong, "challenge": challenge}),
        422,
        "otp_invalid",
        "code",
    )
    assert body["attempts_left"] == 4
    assert table_snapshot(db) == before


def test_five_wrong_codes_burn_the_code(client: TestClient, sms: RecordingSender, db: Session) -> None:
    phone = make_phone()
    challenge = client.post("/v1/auth/otp", json={"phone": phone}).json()["challenge"]
    code = sms.codes[phone]
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        body = client.post(
            "/v1/auth/token", json={"phone": phone, "code": wrong, "challenge": challenge}
        ).json()
        assert body["attempts_left"] == left
    before = table_snapshot(db)
    # Even the right code no longer works: it was burned after the fifth miss.
    assert_problem(
        client.post("/v1/auth/token", json={"phone": phone, "code": code, "challenge": challenge}),
        422,
        "otp_expired",
        "code",
    )
    assert table_snapshot(db) == before


def test_code_expires(app, client: TestClient, sms: RecordingSender, db: Session) -> None:
    app.state.settings = app.state.settings.model_copy(update={"otp_ttl_seconds": 1})
    phone = make_phone()
    challenge = client.post("/v1/auth/otp", json={"phone": phone}).json()["challenge"]
    deadline = time.monotonic() + 5
    while True:
        response = client.post("/v1/auth/token", json={"phone": phone, "code": "x", "challenge": challenge})
        if response.json()["code"] == "otp_expired":
            break
        assert time.monotonic() < deadline, "the code never expired"
        time.sleep(0.05)
    before = table_snapshot(db)
    assert_problem(
        client.post(
            "/v1/auth/token", json={"phone": phone, "code": sms.codes[phone], "challenge": challenge}
        ),
        422,
        "otp_expired",
        "code",
    )
    assert table_snapshot(db) == before


def test_code_for_a_number_that_never_asked_is_refused(client: TestClient, db: Session) -> None:
    before = table_snapshot(db)
    assert_problem(
        client.post(
            "/v1/auth/token", json={"phone": make_phone(), "code": "123456", "challenge": "otc_never-sent"}
        ),
        422,
        "otp_expired",
        "code",
    )
    assert table_snapshot(db) == before


def test_resend_is_rate_limited_per_phone(client: TestClient, sms: RecordingSender) -> None:
    phone = make_phone()
    client.post("/v1/auth/otp", json={"phone": phone})
    first_code = sms.codes[phone]
    response = client.post("/v1/auth/otp", json={"phone": phone})
    assert_problem(response, 429, "otp_resend_too_soon", "phone")
    assert 1 <= int(response.headers["retry-after"]) <= 61
    assert sms.codes[phone] == first_code  # nothing new was sent


def test_codes_are_rate_limited_per_client_ip(app, client: TestClient, sms: RecordingSender) -> None:
    app.state.settings = app.state.settings.model_copy(update={"otp_max_per_ip_per_hour": 3})
    phones = [make_phone() for _ in range(4)]
    for phone in phones[:3]:
        assert client.post("/v1/auth/otp", json={"phone": phone}).status_code == 202
    assert_problem(client.post("/v1/auth/otp", json={"phone": phones[3]}), 429, "rate_limited")
    assert phones[3] not in sms.codes


def test_guesses_are_rate_limited_per_client_ip(app, client: TestClient, sms: RecordingSender) -> None:
    app.state.settings = app.state.settings.model_copy(update={"otp_verify_max_per_ip_per_hour": 2})
    phone = make_phone()
    challenge = client.post("/v1/auth/otp", json={"phone": phone}).json()["challenge"]
    for _ in range(2):
        client.post("/v1/auth/token", json={"phone": phone, "code": "999999", "challenge": challenge})
    assert_problem(
        client.post(
            "/v1/auth/token", json={"phone": phone, "code": sms.codes[phone], "challenge": challenge}
        ),
        429,
        "rate_limited",
    )


def test_refresh_rotates_the_token(client: TestClient, sms: RecordingSender) -> None:
    pair = sign_in(client, sms, make_phone())
    response = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != pair["refresh_token"]
    assert new["user_id"] == pair["user_id"]
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 200


def test_reusing_a_refresh_token_revokes_the_whole_family(
    client: TestClient, sms: RecordingSender, db: Session
) -> None:
    pair = sign_in(client, sms, make_phone())
    stolen = pair["refresh_token"]
    legit = client.post("/v1/auth/refresh", json={"refresh_token": stolen}).json()
    assert_problem(
        client.post("/v1/auth/refresh", json={"refresh_token": stolen}),
        401,
        "refresh_token_reused",
        "refresh_token",
    )
    # The legitimate holder's newer token died with the family.
    assert_problem(
        client.post("/v1/auth/refresh", json={"refresh_token": legit["refresh_token"]}),
        401,
        "refresh_token_reused",
        "refresh_token",
    )
    rows = db.exec(select(RefreshToken).where(RefreshToken.user_id == pair["user_id"])).all()
    assert len(rows) == 2
    assert all(row.revoked_at is not None for row in rows)


def test_unknown_refresh_token_is_refused(client: TestClient, db: Session) -> None:
    before = table_snapshot(db)
    assert_problem(
        client.post("/v1/auth/refresh", json={"refresh_token": "rt_nope"}),
        401,
        "invalid_refresh_token",
        "refresh_token",
    )
    assert table_snapshot(db) == before


def test_logout_revokes_the_refresh_token(client: TestClient, sms: RecordingSender) -> None:
    pair = sign_in(client, sms, make_phone())
    assert client.post("/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert_problem(
        client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}),
        401,
        "refresh_token_reused",
        "refresh_token",
    )


def test_tampered_or_foreign_access_tokens_are_refused(client: TestClient, sms: RecordingSender) -> None:
    import jwt

    pair = sign_in(client, sms, make_phone())
    forged = jwt.encode(
        {"sub": pair["user_id"], "aud": "xinyi:api", "iat": 1, "exp": 2**31},
        "not-our-secret-but-long-enough-for-hs256",
        "HS256",
    )
    for token in (pair["access_token"][:-2] + "xx", forged, "garbage"):
        assert_problem(
            client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_access_token"
        )


def test_expired_access_token_is_refused(app, client: TestClient, sms: RecordingSender) -> None:
    import jwt

    pair = sign_in(client, sms, make_phone())
    secret = app.state.settings.secret_key
    expired = jwt.encode({"sub": pair["user_id"], "aud": "xinyi:api", "iat": 1, "exp": 2}, secret, "HS256")
    assert_problem(
        client.get("/v1/me", headers={"Authorization": f"Bearer {expired}"}), 401, "access_token_expired"
    )


def test_an_access_token_already_accepted_is_refused_once_it_expires(
    client: TestClient, sms: RecordingSender, pinned_clock: time_machine.TimeMachineFixture
) -> None:
    """Checked tokens are kept (a phone sends the same one all its life); the expiry is still checked at
    every use, against the service's clock."""
    import jwt

    pair = sign_in(client, sms, make_phone())
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/v1/me", headers=headers).status_code == 200  # checked, and kept
    exp = jwt.decode(pair["access_token"], options={"verify_signature": False})["exp"]
    pinned_clock.move_to(datetime.fromtimestamp(exp - 1, UTC), tick=False)
    assert client.get("/v1/me", headers=headers).status_code == 200
    pinned_clock.move_to(datetime.fromtimestamp(exp, UTC), tick=False)
    assert_problem(client.get("/v1/me", headers=headers), 401, "access_token_expired")
