from __future__ import annotations

import base64

import pytest

from app.core.config import InsecureSettingsError, Settings
from app.main import create_app

STRONG = {
    "secret_key": "s" * 40,
    "id_encryption_keys": {"k1": base64.urlsafe_b64encode(b"k" * 32).decode()},
    "id_encryption_active_kid": "k1",
    "id_hash_key": "h" * 32,
    "audit_hmac_keys": {"a1": "a" * 40},
    "audit_hmac_active_kid": "a1",
}


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg,arg-type]


def test_development_runs_on_the_built_in_defaults() -> None:
    assert make(env="development").is_development


@pytest.mark.parametrize("env", ["test", "staging", "production"])
def test_outside_development_default_secrets_are_refused(env: str) -> None:
    with pytest.raises(InsecureSettingsError) as error:
        make(env=env)
    message = str(error.value)
    assert "XINYI_SECRET_KEY" in message
    assert "XINYI_ID_ENCRYPTION_KEYS" in message
    assert "XINYI_ID_HASH_KEY" in message
    assert "XINYI_AUDIT_HMAC_KEYS" in message


@pytest.mark.parametrize("missing", ["secret_key", "id_encryption_keys", "id_hash_key", "audit_hmac_keys"])
def test_each_default_alone_is_refused_in_production(missing: str) -> None:
    values = {k: v for k, v in STRONG.items() if k != missing}
    if missing == "id_encryption_keys":
        values.pop("id_encryption_active_kid")
    if missing == "audit_hmac_keys":
        values.pop("audit_hmac_active_kid")
    with pytest.raises(InsecureSettingsError):
        make(env="production", **values)


def test_production_starts_with_real_secrets() -> None:
    settings = make(env="production", **STRONG)
    assert settings.json_logs is True


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYI_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("XINYI_OTP_MAX_ATTEMPTS", "3")
    settings = make()
    assert settings.database_url == "sqlite:///elsewhere.db"
    assert settings.otp_max_attempts == 3


def test_encryption_keys_must_be_256_bit() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        make(
            id_encryption_keys={"short": base64.urlsafe_b64encode(b"x" * 16).decode()},
            id_encryption_active_kid="short",
        )


def test_the_service_refuses_to_start_in_production_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import get_settings

    monkeypatch.setenv("XINYI_ENV", "production")
    get_settings.cache_clear()
    try:
        with pytest.raises(InsecureSettingsError):
            create_app()
    finally:
        get_settings.cache_clear()
