"""Sign-in codes through Tencent Cloud SMS (腾讯云短信), on its own SDK (API 2021-01-11, ``SendSms``).

The provider's refusals become what the caller can act on: a per-number limit is 429 (wait), a number
it will not send to is 422 (fix the number), anything else (outage, credentials, signature or template
not approved, no balance) is 503 for the caller and an error in the log, with the provider's error code,
for the operator. The code itself and the secret key are never logged.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import structlog
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from app.core import metrics
from app.core.config import Settings
from app.core.errors import AppError, RateLimited
from app.core.security import mask_phone
from app.core.sms import SmsPhoneRejected, SmsUnavailable

PROVIDER = "tencent"
log = structlog.get_logger("app.sms")

# The SDK's debug lines carry whole requests (the code in them): never let them through.
logging.getLogger("tencentcloud_sdk_common").setLevel(logging.WARNING)

# Per-number limits of the provider (frequency-limit rules in its console), and how long to wait.
_NUMBER_LIMITS = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30,
    "LimitExceeded.DeliveryFrequencyLimit": 60,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600,
    "LimitExceeded.PhoneNumberDailyLimit": 24 * 3600,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": 24 * 3600,
}
_NUMBER_REJECTED = {
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberParseFail",
    "FailedOperation.PhoneNumberInBlacklist",  # the number opted out (免打扰名单)
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone",
    "UnsupportedOperation.UnsupportedRegion",
}
_TEMPLATE_CODES = (
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    "FailedOperation.TemplateUnapprovedOrNotExist",
    "FailedOperation.MissingSignature",
    "FailedOperation.MissingTemplateToModify",
    "InvalidParameterValue.TemplateParameterFormatError",
    "InvalidParameterValue.TemplateParameterLengthLimit",
)


def failure_reason(provider_error: str) -> str:
    """The provider's error code, as one of the reasons on ``xinyi_sms_failures``."""
    if provider_error in _NUMBER_LIMITS:
        return "rate_limited"
    if provider_error in _NUMBER_REJECTED:
        return "phone_rejected"
    if provider_error.startswith(_TEMPLATE_CODES):
        return "template"
    if provider_error.startswith(("AuthFailure", "UnauthorizedOperation")):
        return "auth"
    if provider_error == "FailedOperation.InsufficientBalanceInSmsPackage":
        return "balance"
    return "unavailable"


class TencentSmsSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        http = HttpProfile(reqTimeout=settings.sms_timeout_seconds)
        if settings.sms_tencent_endpoint:
            parts = urlsplit(settings.sms_tencent_endpoint)
            http = HttpProfile(
                protocol=parts.scheme or "https",
                endpoint=parts.netloc or parts.path,
                reqTimeout=settings.sms_timeout_seconds,
            )
        self._profile = ClientProfile(httpProfile=http)

    def _client(self) -> Any:
        # A client per message: messages are rare (one per sign-in) and the SDK's client holds a
        # requests session, not meant to be shared across threads.
        cred = credential.Credential(
            self.settings.sms_tencent_secret_id.get_secret_value(),
            self.settings.sms_tencent_secret_key.get_secret_value(),
        )
        return sms_client.SmsClient(cred, self.settings.sms_tencent_region, self._profile)

    def send_login_code(self, phone: str, code: str) -> None:
        settings = self.settings
        minutes = str(max(1, settings.otp_ttl_seconds // 60))
        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+86" + phone]
        request.SmsSdkAppId = settings.sms_tencent_sdk_app_id
        request.SignName = settings.sms_sign_name
        request.TemplateId = settings.sms_login_template_id
        request.TemplateParamSet = [
            p.format(code=code, minutes=minutes) for p in settings.sms_login_template_params
        ]
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            raise self._refused(phone, exc.get_code() or "ClientError", exc.get_request_id()) from None
        statuses = response.SendStatusSet or []
        status_code = statuses[0].Code if statuses else "EmptySendStatusSet"
        if status_code != "Ok":
            raise self._refused(phone, status_code, response.RequestId)
        metrics.SMS_SENT.labels(PROVIDER).inc()
        log.info("sms_sent", provider=PROVIDER, phone=mask_phone(phone), provider_request=response.RequestId)

    def _refused(self, phone: str, provider_error: str, provider_request: str | None) -> AppError:
        reason = failure_reason(provider_error)
        metrics.SMS_FAILURES.labels(PROVIDER, reason).inc()
        fields = {
            "provider": PROVIDER,
            "phone": mask_phone(phone),
            "reason": reason,
            "provider_error": provider_error,
            "provider_request": provider_request,
        }
        if reason == "rate_limited":
            log.info("sms_refused", **fields)
            return RateLimited(
                "The SMS provider limits messages to this number; wait before asking for another code.",
                retry_after=_NUMBER_LIMITS[provider_error],
                code="sms_rate_limited",
                param="phone",
            )
        if reason == "phone_rejected":
            log.info("sms_refused", **fields)
            return SmsPhoneRejected(
                "The SMS provider cannot send to this number; check it is a mainland mobile number "
                "that accepts text messages.",
                param="phone",
            )
        log.error("sms_failed", **fields)
        return SmsUnavailable(
            "Sign-in codes cannot be sent right now; try again in a few minutes.",
            headers={"Retry-After": "60"},
        )
