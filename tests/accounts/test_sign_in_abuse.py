"""A stranger can neither keep a resident from signing in for more than a few minutes nor guess a code
(issue 17, finding 9), and the per-IP limits count the real client behind a trusted proxy."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.sms import RecordingSender
from app.core.store import KeyValueStore
from app.main import create_app
from tests.core.test_errors import assert_problem
from tests.helpers import make_phone


def ask(client: TestClient, phone: str, **headers: str) -> Any:
    return client.post("/v1/auth/otp", json={"phone": phone}, headers=headers)


def guess(client: TestClient, phone: str, code: str, challenge: str, **headers: str) -> Any:
    return client.post(
        "/v1/auth/token", json={"phone": phone, "code": code, "challenge": challenge}, headers=headers
    )


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def a_minute_passes(app: Any, phone: str) -> None:
    """The resend cooldown (60 s) runs out."""
    app.state.store.delete(f"otp:cooldown:{app.state.crypto.phone_hash(phone)}")


def test_a_strangers_wrong_guesses_do_not_touch_the_owners_pending_code(
    app: Any, client: TestClient, sms: RecordingSender
) -> None:
    # given the owner asked for a code
    phone = make_phone()
    owner_challenge = ask(client, phone).json()["challenge"]
    owner_code = sms.codes[phone]
    # when a stranger asks for codes to the same number and burns every guess of their own challenges
    for _ in range(2):
        a_minute_passes(app, phone)
        stranger_challenge = ask(client, phone).json()["challenge"]
        for _ in range(5):
            guess(client, phone, wrong(sms.codes[phone]), stranger_challenge)
        # and tries the owner's phone without its challenge
        assert_problem(guess(client, phone, "123456", "otc_made-up"), 422, "otp_expired", "code")
    # then the owner's code still signs in, at the first try
    assert guess(client, phone, owner_code, owner_challenge).status_code == 200


def test_a_stranger_holds_a_number_off_for_one_window_at_most_never_a_day(
    app: Any, client: TestClient, sms: RecordingSender
) -> None:
    settings: Settings = app.state.settings
    phone = make_phone()
    # a stranger asks for as many codes as the window allows (one a minute)
    for _ in range(settings.otp_max_per_phone_per_window):
        assert ask(client, phone).status_code == 202
        a_minute_passes(app, phone)
    refused = ask(client, phone)
    assert_problem(refused, 429, "otp_phone_limit", "phone")
    # the wait is the window's rest: ten minutes at most, not 24 hours
    assert 1 <= int(refused.headers["retry-after"]) <= settings.otp_phone_window_seconds + 1
    assert settings.otp_phone_window_seconds == 600
    # once the window is over, the owner gets a code and signs in
    app.state.store.delete(f"otp:window:{app.state.crypto.phone_hash(phone)}")
    a_minute_passes(app, phone)
    challenge = ask(client, phone).json()["challenge"]
    assert guess(client, phone, sms.codes[phone], challenge).status_code == 200


def test_past_the_daily_wrong_guesses_each_code_takes_one_guess(
    app: Any, client: TestClient, sms: RecordingSender
) -> None:
    settings: Settings = app.state.settings
    phone = make_phone()
    # given a number that has had its day's wrong guesses (10), over two codes of five guesses each
    for _ in range(settings.otp_wrong_guesses_per_phone_per_day // settings.otp_max_attempts):
        a_minute_passes(app, phone)
        challenge = ask(client, phone).json()["challenge"]
        for left in range(settings.otp_max_attempts - 1, -1, -1):
            body = guess(client, phone, wrong(sms.codes[phone]), challenge).json()
            assert (body["code"], body["attempts_left"]) == ("otp_invalid", left)
    # when a fresh code is asked for: one wrong guess ends it, even the right code comes too late
    app.state.store.delete(f"otp:window:{app.state.crypto.phone_hash(phone)}")
    a_minute_passes(app, phone)
    challenge = ask(client, phone).json()["challenge"]
    code = sms.codes[phone]
    body = guess(client, phone, wrong(code), challenge).json()
    assert (body["code"], body["attempts_left"]) == ("otp_invalid", 0)
    assert_problem(guess(client, phone, code, challenge), 422, "otp_expired", "code")
    # and the owner, who has the code, still signs in at the first try with the next one
    a_minute_passes(app, phone)
    challenge = ask(client, phone).json()["challenge"]
    assert guess(client, phone, sms.codes[phone], challenge).status_code == 200


def behind(settings: Settings, store: KeyValueStore, sms: RecordingSender, peer: str) -> TestClient:
    """The app, reached from ``peer`` (the connecting address), with a proxy network trusted."""
    trusting = settings.model_copy(update={"trusted_proxies": ["10.20.0.0/16"], "otp_max_per_ip_per_hour": 2})
    return TestClient(create_app(trusting, store=store, sms_sender=sms), client=(peer, 50000))


def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(
    settings: Settings, store: KeyValueStore, sms: RecordingSender
) -> None:
    with behind(settings, store, sms, "10.20.0.5") as proxy:
        for _ in range(2):
            assert ask(proxy, make_phone(), **{"X-Forwarded-For": "198.51.100.7"}).status_code == 202
        assert_problem(ask(proxy, make_phone(), **{"X-Forwarded-For": "198.51.100.7"}), 429, "rate_limited")
        # another resident behind the same proxy is not held back by the first one's bucket
        assert ask(proxy, make_phone(), **{"X-Forwarded-For": "198.51.100.8"}).status_code == 202


def test_anyone_elses_x_forwarded_for_is_ignored(
    settings: Settings, store: KeyValueStore, sms: RecordingSender
) -> None:
    with behind(settings, store, sms, "192.0.2.44") as stranger:
        for n in range(2):
            assert ask(stranger, make_phone(), **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code == 202
        # a new forged address each time does not escape the connecting address's bucket
        assert_problem(
            ask(stranger, make_phone(), **{"X-Forwarded-For": "198.51.100.99"}), 429, "rate_limited"
        )
