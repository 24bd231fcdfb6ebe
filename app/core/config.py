"""Settings: one pydantic-settings class, env prefix ``XINYI_``, ``.env`` support.

Outside development the service refuses to start with the built-in development secret or keys, so a
forgotten variable never ships a guessable signing secret.
"""

from __future__ import annotations

import base64
import ipaddress
from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core import clock

# Development defaults. They are public (they are in this file), so any environment other than
# development must override them; Settings refuses to load otherwise.
DEV_SECRET_KEY = "dev-only-secret-key-change-me-0123456789abcdef"  # noqa: S105 (public by design, refused outside development)
DEV_ID_ENCRYPTION_KEYS = {"dev1": base64.urlsafe_b64encode(b"dev-only-aes-256-key-change-me!!").decode()}
DEV_ID_HASH_KEY = "dev-only-id-hash-key-change-me"
DEV_AUDIT_HMAC_KEYS = {"dev1": "dev-only-audit-hmac-key-change-me-0123456789"}

Environment = Literal["development", "test", "staging", "production"]


class InsecureSettingsError(RuntimeError):
    """Raised at start-up when a non-development environment uses a development secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINYI_", env_file=".env", extra="ignore")

    env: Environment = "development"
    database_url: str = "sqlite:///./var/xinyi.db"
    # "pgbouncer" when PostgreSQL is reached through PgBouncer in transaction mode (deploy/pgbouncer.ini):
    # the driver then keeps no prepared statements between transactions.
    database_pooler: Literal["", "pgbouncer"] = ""
    # Empty means the embedded in-process store (single process only).
    redis_url: str = ""

    secret_key: str = DEV_SECRET_KEY
    # Key id -> base64 (urlsafe) 32-byte AES-256-GCM key. The active id encrypts; every id decrypts.
    id_encryption_keys: dict[str, str] = Field(default_factory=lambda: dict(DEV_ID_ENCRYPTION_KEYS))
    id_encryption_active_kid: str = "dev1"
    # HMAC key for looking up ID numbers and phone numbers without storing them in the clear.
    id_hash_key: str = DEV_ID_HASH_KEY

    # Key id -> secret (at least 32 characters) keying the audit log's hash chain (HMAC-SHA256). Kept
    # outside the database, so that someone who can write to it cannot recompute the chain. The active
    # id keys new entries (its id is stored with each); every id listed still verifies older ones.
    audit_hmac_keys: dict[str, str] = Field(default_factory=lambda: dict(DEV_AUDIT_HMAC_KEYS))
    audit_hmac_active_kid: str = "dev1"

    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_resend_cooldown_seconds: int = 60
    # Per phone: at most this many codes per window (a stranger asking for codes to someone's number
    # holds them off for one window at most), and this many wrong guesses a day before each code takes
    # a single guess (the README's Security section gives the odds these allow).
    otp_max_per_phone_per_window: int = Field(default=3, ge=1)
    otp_phone_window_seconds: int = Field(default=600, ge=60, le=3600)
    otp_wrong_guesses_per_phone_per_day: int = Field(default=10, ge=1)
    otp_max_per_ip_per_hour: int = 30
    otp_verify_max_per_ip_per_hour: int = 60

    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDRs): the per-IP
    # limits then count the real client behind them. Anyone else's X-Forwarded-For is ignored.
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])

    # Live streams of scans (SSE): caps per account and per API process (429 past them), and how long
    # a stream without a scan stays open (the client reconnects).
    sse_max_streams_per_user: int = Field(default=3, ge=1, le=50)
    sse_max_streams_per_process: int = Field(default=500, ge=1)
    sse_idle_seconds: float = Field(default=300.0, gt=0)

    idempotency_ttl_seconds: int = 24 * 3600
    idempotency_lock_seconds: int = 60

    # Outbound webhooks (app/webhooks): attempts per delivery, exponential backoff between them.
    webhook_max_attempts: int = Field(default=8, ge=1, le=20)
    webhook_backoff_base_seconds: float = Field(default=30.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # None: loopback and private addresses are allowed as webhook targets in development and test only.
    webhook_allow_private_urls: bool | None = None
    # Subject rights (issue 7). Evidence files live outside any served directory, under random names.
    evidence_dir: str = "./var/evidence"
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=10 * 1024 * 1024)
    evidence_max_files: int = Field(default=10, ge=1, le=50)
    # Working days for the 3-working-day repair decision: Monday to Friday, minus these public holidays,
    # plus these make-up working days (调休). Both empty by default: set them from the State Council's
    # yearly holiday notice, e.g. XINYI_PUBLIC_HOLIDAYS='["2027-01-01"]'.
    public_holidays: list[date] = Field(default_factory=list)
    makeup_workdays: list[date] = Field(default_factory=list)
    # Payments (信易租 deposit holds and default collection). No secret key: the embedded provider records
    # holds and charges locally. SecretStr keeps both secrets out of reprs and logs.
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")  # empty: every inbound Stripe webhook is refused
    stripe_api_base: str = ""  # empty: Stripe's own; tests point the SDK at a local stand-in
    stripe_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    stripe_max_network_retries: int = Field(default=2, ge=0, le=5)
    payments_currency: str = "cny"
    rental_dispute_window_days: int = Field(default=7, ge=1, le=60)

    # SMS sign-in codes. Empty provider: development writes the code to the server log, and the API refuses
    # to start in production. "tencent": Tencent Cloud SMS through its own SDK (app.core.sms_tencent).
    sms_provider: Literal["", "tencent"] = ""
    sms_tencent_secret_id: SecretStr = SecretStr("")
    sms_tencent_secret_key: SecretStr = SecretStr("")
    sms_tencent_region: str = "ap-guangzhou"
    sms_tencent_sdk_app_id: str = ""  # 短信应用 SdkAppId
    sms_sign_name: str = ""  # the approved signature (签名), e.g. 信易加
    sms_login_template_id: str = ""  # the approved sign-in template's id
    # The template's parameters in order; {code} and {minutes} (the code's lifetime) are filled in.
    sms_login_template_params: list[str] = Field(default_factory=lambda: ["{code}", "{minutes}"])
    sms_tencent_endpoint: str = ""  # empty: the SDK's own (sms.tencentcloudapi.com); e.g. http://host:port
    sms_timeout_seconds: int = Field(default=10, ge=1, le=60)

    # /metrics answers only with "Authorization: Bearer <this>"; empty: /metrics is not served.
    metrics_token: SecretStr = SecretStr("")

    # Outside production only: run this process ahead of the wall clock ("+8d") or from an instant
    # ("2026-12-20T10:00+08:00"), to play a dispute window or a deadline through without waiting.
    # app.core.clock; refused in production.
    clock_offset: str = ""
    clock_at: str = ""

    log_json: bool | None = None  # default: JSON everywhere except development
    log_level: str = "INFO"

    @field_validator("id_encryption_keys")
    @classmethod
    def _keys_are_aes256(cls, value: dict[str, str]) -> dict[str, str]:
        for kid, encoded in value.items():
            try:
                raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except ValueError as exc:
                raise ValueError(f"id_encryption_keys[{kid}] is not base64") from exc
            if len(raw) != 32:
                raise ValueError(f"id_encryption_keys[{kid}] must decode to 32 bytes")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {item!r} is not an IP address or CIDR") from None
        return [item.strip() for item in value]

    @model_validator(mode="after")
    def _sms_provider_is_complete(self) -> Settings:
        if self.sms_provider == "tencent":
            required = {
                "XINYI_SMS_TENCENT_SECRET_ID": self.sms_tencent_secret_id.get_secret_value(),
                "XINYI_SMS_TENCENT_SECRET_KEY": self.sms_tencent_secret_key.get_secret_value(),
                "XINYI_SMS_TENCENT_SDK_APP_ID": self.sms_tencent_sdk_app_id,
                "XINYI_SMS_SIGN_NAME": self.sms_sign_name,
                "XINYI_SMS_LOGIN_TEMPLATE_ID": self.sms_login_template_id,
            }
            missing = [name for name, value in required.items() if not value.strip()]
            if missing:
                raise ValueError(f"XINYI_SMS_PROVIDER=tencent also needs {', '.join(missing)}")
        for param in self.sms_login_template_params:
            try:
                param.format(code="0", minutes="0")
            except (KeyError, IndexError, ValueError):
                raise ValueError(
                    f"XINYI_SMS_LOGIN_TEMPLATE_PARAMS: {param!r} may use only {{code}} and {{minutes}}"
                ) from None
        return self

    @model_validator(mode="after")
    def _clock_override_outside_production_only(self) -> Settings:
        # Checked here too, so a bad or forbidden override stops start-up with the settings' own message.
        clock.check_override(self.env, offset=self.clock_offset, at=self.clock_at)
        return self

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Settings:
        if self.id_encryption_active_kid not in self.id_encryption_keys:
            raise ValueError("id_encryption_active_kid must name one of id_encryption_keys")
        if self.audit_hmac_active_kid not in self.audit_hmac_keys:
            raise ValueError("audit_hmac_active_kid must name one of audit_hmac_keys")
        if self.env == "development":
            return self
        problems = []
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("XINYI_SECRET_KEY")
        if any(
            DEV_ID_ENCRYPTION_KEYS.get(kid) == key or kid in DEV_ID_ENCRYPTION_KEYS
            for kid, key in self.id_encryption_keys.items()
        ):
            problems.append("XINYI_ID_ENCRYPTION_KEYS")
        if self.id_hash_key == DEV_ID_HASH_KEY or len(self.id_hash_key) < 16:
            problems.append("XINYI_ID_HASH_KEY")
        if any(
            kid in DEV_AUDIT_HMAC_KEYS or key in DEV_AUDIT_HMAC_KEYS.values() or len(key) < 32
            for kid, key in self.audit_hmac_keys.items()
        ):
            problems.append("XINYI_AUDIT_HMAC_KEYS")
        if problems:
            raise InsecureSettingsError(
                f"refusing to start in {self.env!r} with development defaults for: {', '.join(problems)}"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def webhooks_may_target_private_urls(self) -> bool:
        if self.webhook_allow_private_urls is not None:
            return self.webhook_allow_private_urls
        return self.env in {"development", "test"}

    @property
    def json_logs(self) -> bool:
        return (not self.is_development) if self.log_json is None else self.log_json


@lru_cache
def get_settings() -> Settings:
    return Settings()
