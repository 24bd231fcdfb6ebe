"""Cookie mode for browsers: the refresh token in an HttpOnly, SameSite=Strict cookie scoped to /v1/auth."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.core.sms import RecordingSender
from tests.core.test_errors import assert_problem
from tests.helpers import make_phone, table_snapshot


def _cookie_sign_in(client: TestClient, sms: RecordingSender) -> tuple[dict, str]:
    phone = make_phone()
    sent = client.post("/v1/auth/otp", json={"phone": phone})
    assert sent.status_code == 202
    answer = {"phone": phone, "code": sms.codes[phone], "challenge": sent.json()["challenge"], "cookie": True}
    response = client.post("/v1/auth/token", json=answer)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["set-cookie"]


def test_sign_in_in_cookie_mode_sets_an_http_only_cookie_and_returns_no_refresh_token(
    client: TestClient, sms: RecordingSender
) -> None:
    pair, set_cookie = _cookie_sign_in(client, sms)
    assert pair["refresh_token"] is None
    assert (
        client.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 200
    )
    attributes = [part.strip().lower() for part in set_cookie.split(";")]
    assert attributes[0].startswith("xinyi_refresh=rt_")
    assert {"httponly", "path=/v1/auth", "samesite=strict", "max-age=2592000"} <= set(attributes)
    assert "secure" not in attributes  # plain http (development): a Secure cookie would never come back


def test_over_https_the_cookie_is_secure(app, sms: RecordingSender) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        _, set_cookie = _cookie_sign_in(client, sms)
    assert "secure" in [part.strip().lower() for part in set_cookie.split(";")]


def test_refresh_reads_and_rotates_the_cookie(client: TestClient, sms: RecordingSender) -> None:
    pair, _ = _cookie_sign_in(client, sms)
    first_cookie = client.cookies.get("xinyi_refresh")
    refreshed = client.post("/v1/auth/refresh", json={})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] is None
    assert refreshed.json()["user_id"] == pair["user_id"]
    assert client.cookies.get("xinyi_refresh") not in {None, first_cookie}
    # the old cookie value, replayed, is a reused token: the family is revoked and the cookie cleared
    client.cookies.clear()
    client.cookies.set("xinyi_refresh", first_cookie)
    refused = client.post("/v1/auth/refresh")
    assert_problem(refused, 401, "refresh_token_reused", "refresh_token")
    assert 'xinyi_refresh=""' in refused.headers["set-cookie"]


def test_refresh_without_a_token_or_a_cookie_is_refused(client: TestClient, db: Session) -> None:
    before = table_snapshot(db)
    assert_problem(client.post("/v1/auth/refresh", json={}), 401, "missing_refresh_token", "refresh_token")
    assert table_snapshot(db) == before


def test_logout_by_cookie_ends_the_sign_in_and_clears_the_cookie(
    client: TestClient, sms: RecordingSender
) -> None:
    _cookie_sign_in(client, sms)
    cookie = client.cookies.get("xinyi_refresh")
    response = client.post("/v1/auth/logout")
    assert response.status_code == 204
    assert 'xinyi_refresh=""' in response.headers["set-cookie"]
    client.cookies.clear()
    client.cookies.set("xinyi_refresh", cookie)
    assert_problem(client.post("/v1/auth/refresh"), 401, "refresh_token_reused", "refresh_token")


def test_the_body_token_still_wins_over_a_cookie(client: TestClient, sms: RecordingSender) -> None:
    phone = make_phone()
    challenge = client.post("/v1/auth/otp", json={"phone": phone}).json()["challenge"]
    pair = client.post(
        "/v1/auth/token", json={"phone": phone, "code": sms.codes[phone], "challenge": challenge}
    ).json()
    assert pair["refresh_token"].startswith("rt_")
    assert "xinyi_refresh" not in client.cookies
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert rotated.json()["refresh_token"].startswith("rt_")
    assert "set-cookie" not in rotated.headers
