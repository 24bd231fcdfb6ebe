"""A sign-in ends at once (issue 17, finding 7): after logout, or after its refresh token was reused, the
access tokens of that sign-in fail on the very next request, though they were checked (and kept) before."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core.sms import RecordingSender
from tests.core.test_errors import assert_problem
from tests.helpers import make_phone, sign_in


def me(client: TestClient, access_token: str):  # type: ignore[no-untyped-def]
    return client.get("/v1/me", headers={"Authorization": f"Bearer {access_token}"})


def test_logout_ends_the_sign_ins_access_token_at_once(app, client: TestClient, sms: RecordingSender) -> None:
    # given two sign-ins of one resident (two phones), each token already accepted once
    phone = make_phone()
    first = sign_in(client, sms, phone)
    app.state.store.delete(f"otp:cooldown:{app.state.crypto.phone_hash(phone)}")
    second = sign_in(client, sms, phone)
    assert me(client, first["access_token"]).status_code == 200
    assert me(client, second["access_token"]).status_code == 200
    # when the first signs out
    assert client.post("/v1/auth/logout", json={"refresh_token": first["refresh_token"]}).status_code == 204
    # then its access token is refused on the next request; the other sign-in goes on
    assert_problem(me(client, first["access_token"]), 401, "session_ended")
    assert me(client, second["access_token"]).status_code == 200


def test_a_reused_refresh_token_ends_every_access_token_of_the_sign_in(
    client: TestClient, sms: RecordingSender
) -> None:
    # given a sign-in refreshed once: two access tokens of one family, both in use
    pair = sign_in(client, sms, make_phone())
    fresh = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json()
    assert me(client, pair["access_token"]).status_code == 200
    assert me(client, fresh["access_token"]).status_code == 200
    # when the old refresh token is presented again (a stolen copy)
    reused = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert_problem(reused, 401, "refresh_token_reused", "refresh_token")
    # then neither access token works any more
    assert_problem(me(client, pair["access_token"]), 401, "session_ended")
    assert_problem(me(client, fresh["access_token"]), 401, "session_ended")
