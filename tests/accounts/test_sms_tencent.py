"""Sign-in codes through Tencent Cloud SMS: the real SDK against the local stand-in, which checks each
request's signature as the provider does. The provider's refusals reach the caller as something to act
on (429 wait, 422 fix the number, 503 try later), never a 500, and leave no code behind."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import SecretStr, ValidationError

from app.core.config import Settings
from app.core.sms import SmsNotConfiguredError
from app.core.store import KeyValueStore
from app.main import create_app
from tests.accounts.sms_standin import TencentSmsStandIn
from tests.core.test_logging import capture_json_logs
from tests.helpers import make_phone


@pytest.fixture
def standin() -> Iterator[TencentSmsStandIn]:
    server = TencentSmsStandIn()
    server.base_url = server.start()  # type: ignore[attr-defined]
    yield server
    server.stop()


def tencent(settings: Settings, standin: TencentSmsStandIn, **changes: Any) -> Settings:
    values = {
        "sms_provider": "tencent",
        "sms_tencent_secret_id": SecretStr(standin.secret_id),
        "sms_tencent_secret_key": SecretStr(standin.secret_key),
        "sms_tencent_sdk_app_id": standin.sdk_app_id,
        "sms_sign_name": standin.sign_name,
        "sms_login_template_id": "1000001",
        "sms_tencent_endpoint": standin.base_url,  # type: ignore[attr-defined]
        "sms_timeout_seconds": 5,
        **changes,
    }
    return Settings.model_validate({**settings.model_dump(), **values})


@pytest.fixture
def client_for(app):  # type: ignore[no-untyped-def]
    """A client of an app on these settings with the sender they ask for, in the test's transaction."""

    def make(settings: Settings, store: KeyValueStore) -> TestClient:
        mine = create_app(settings, store=store)  # no sender injected
        mine.dependency_overrides.update(app.dependency_overrides)  # the test's session
        return TestClient(mine, raise_server_exceptions=False)

    return make


def failures(reason: str) -> float:
    sample = REGISTRY.get_sample_value("xinyi_sms_failures_total", {"provider": "tencent", "reason": reason})
    return sample or 0.0


def test_a_resident_signs_in_in_production_with_the_code_the_provider_delivered(
    monkeypatch: pytest.MonkeyPatch,
    committed_engine,
    settings: Settings,
    database_url: str,
    redis_url: str,
    evidence_dir,
    store,
    standin,
) -> None:
    # Configured as an operator configures production: environment variables only.
    environment = {
        "XINYI_ENV": "production",
        "XINYI_DATABASE_URL": database_url,
        "XINYI_REDIS_URL": redis_url,
        "XINYI_SECRET_KEY": "p" * 48,
        # the keys the test database's signing keys are sealed with
        "XINYI_ID_ENCRYPTION_KEYS": json.dumps(settings.id_encryption_keys),
        "XINYI_ID_ENCRYPTION_ACTIVE_KID": settings.id_encryption_active_kid,
        "XINYI_ID_HASH_KEY": "prod-id-hash-key-0123456789",
        "XINYI_AUDIT_HMAC_KEYS": json.dumps({"p1": "prod-audit-hmac-key-0123456789abcdef"}),
        "XINYI_AUDIT_HMAC_ACTIVE_KID": "p1",
        "XINYI_EVIDENCE_DIR": str(evidence_dir),
        "XINYI_SMS_PROVIDER": "tencent",
        "XINYI_SMS_TENCENT_SECRET_ID": standin.secret_id,
        "XINYI_SMS_TENCENT_SECRET_KEY": standin.secret_key,
        "XINYI_SMS_TENCENT_REGION": "ap-guangzhou",
        "XINYI_SMS_TENCENT_SDK_APP_ID": standin.sdk_app_id,
        "XINYI_SMS_SIGN_NAME": standin.sign_name,
        "XINYI_SMS_LOGIN_TEMPLATE_ID": "1000001",
        "XINYI_SMS_TENCENT_ENDPOINT": standin.base_url,  # type: ignore[attr-defined]
        "XINYI_METRICS_TOKEN": "metrics-token-0123456789",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    production = Settings(_env_file=None)  # type: ignore[call-arg]
    assert production.env == "production"
    phone = make_phone()

    with TestClient(create_app(production, store=store), raise_server_exceptions=False) as client:
        logs = capture_json_logs()
        asked = client.post("/v1/auth/otp", json={"phone": phone})
        assert asked.status_code == 202, asked.text
        [code] = standin.codes_sent_to(phone)
        [message] = [m for m in standin.messages if m.phone == "+86" + phone]
        assert (message.template_id, message.sign_name, message.params) == ("1000001", "信易加", [code, "5"])
        assert re.fullmatch(r"\d{6}", code) and code not in asked.text

        signed_in = client.post(
            "/v1/auth/token", json={"phone": phone, "code": code, "challenge": asked.json()["challenge"]}
        )
        assert signed_in.status_code == 200, signed_in.text
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
        assert me.status_code == 200
        assert me.json()["phone"] == phone[:3] + "****" + phone[-4:]

        scraped = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456789"})
        assert scraped.status_code == 200
        assert 'xinyi_sms_sent_total{provider="tencent"}' in scraped.text

    logged = logs.getvalue()
    assert code not in logged
    assert standin.secret_key not in logged
    assert '"event": "sms_sent"' in logged


def test_production_refuses_to_start_without_an_sms_provider(settings: Settings, store) -> None:
    production = Settings.model_validate({**settings.model_dump(), "env": "production"})
    app = create_app(production, store=store)
    with pytest.raises(SmsNotConfiguredError, match="XINYI_SMS_PROVIDER=tencent"), TestClient(app):
        pass


def test_an_incomplete_provider_configuration_is_refused_naming_what_is_missing(settings: Settings) -> None:
    with pytest.raises(ValidationError) as error:
        Settings.model_validate(
            {**settings.model_dump(), "sms_provider": "tencent", "sms_sign_name": "信易加"}
        )
    message = str(error.value)
    for name in (
        "XINYI_SMS_TENCENT_SECRET_ID",
        "XINYI_SMS_TENCENT_SECRET_KEY",
        "XINYI_SMS_LOGIN_TEMPLATE_ID",
    ):
        assert name in message
    assert "XINYI_SMS_SIGN_NAME" not in message


@pytest.mark.parametrize(
    ("refusal", "status", "code", "retry_after", "reason"),
    [
        ("LimitExceeded.PhoneNumberThirtySecondLimit", 429, "sms_rate_limited", "30", "rate_limited"),
        ("LimitExceeded.PhoneNumberDailyLimit", 429, "sms_rate_limited", "86400", "rate_limited"),
        ("FailedOperation.PhoneNumberInBlacklist", 422, "sms_phone_rejected", None, "phone_rejected"),
    ],
)
def test_the_providers_refusal_of_a_number_is_answered_as_something_to_act_on(
    settings, store, client_for, standin, refusal, status, code, retry_after, reason
) -> None:
    phone = make_phone()
    standin.refuse["+86" + phone] = refusal
    before = failures(reason)
    with client_for(tencent(settings, standin), store) as client:
        response = client.post("/v1/auth/otp", json={"phone": phone})
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert (response.json()["code"], response.json()["param"]) == (code, "phone")
        assert response.headers.get("retry-after") == retry_after
        assert standin.codes_sent_to(phone) == []
        assert failures(reason) == before + 1
        # Nothing was sent, so there is no challenge to answer and no cooldown to wait out.
        assert "challenge" not in response.json()
        del standin.refuse["+86" + phone]
        again = client.post("/v1/auth/otp", json={"phone": phone})
        assert again.status_code == 202
        assert len(standin.codes_sent_to(phone)) == 1


@pytest.mark.parametrize(
    ("changes", "outage", "reason"),
    [
        ({"sms_sign_name": "未审核签名"}, None, "template"),
        ({"sms_login_template_id": "999"}, None, "template"),
        ({"sms_login_template_params": ["{code}"]}, None, "template"),
        ({"sms_tencent_secret_key": SecretStr("not-the-key")}, None, "auth"),
        ({"sms_tencent_sdk_app_id": "1400999999"}, None, "auth"),
        ({}, "InternalError", "unavailable"),
        ({}, "FailedOperation.InsufficientBalanceInSmsPackage", "balance"),
    ],
)
def test_a_provider_or_configuration_problem_is_a_503_for_the_caller_and_an_error_for_the_operator(
    settings, store, client_for, standin, changes, outage, reason
) -> None:
    standin.outage = outage
    phone = make_phone()
    before = failures(reason)
    with client_for(tencent(settings, standin, **changes), store) as client:
        logs = capture_json_logs()
        response = client.post("/v1/auth/otp", json={"phone": phone})
        assert response.status_code == 503
        assert response.json()["code"] == "sms_unavailable"
        assert response.headers["retry-after"] == "60"
        assert standin.requests >= 1 and standin.codes_sent_to(phone) == []
        assert failures(reason) == before + 1
    [line] = [json.loads(x) for x in logs.getvalue().splitlines() if '"sms_failed"' in x]
    assert (line["level"], line["reason"]) == ("error", reason)
    assert line["provider_error"]  # the provider's own code, for the operator


def test_an_unreachable_provider_is_a_503(settings, store, client_for, standin) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    before = failures("unavailable")
    gone = tencent(settings, standin, sms_tencent_endpoint=f"http://127.0.0.1:{port}")
    with client_for(gone, store) as client:
        response = client.post("/v1/auth/otp", json={"phone": make_phone()})
    assert response.status_code == 503
    assert response.json()["code"] == "sms_unavailable"
    assert failures("unavailable") == before + 1
