"""SMS senders behind one interface. Production sends through a provider's own SDK
(:mod:`app.core.sms_tencent`); development logs the message locally; tests record it. The app picks one
by its settings as it starts (``app.main.make_sender``).

A sender either delivers the code or raises one of the problems below, which the API answers as they are:
the caller can act on each (wait, fix the number, try later). Nothing here logs a code or a secret.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from app.core.errors import AppError
from app.core.security import mask_phone

log = structlog.get_logger("app.sms")


class SmsSender(Protocol):
    def send_login_code(self, phone: str, code: str) -> None: ...


class SmsPhoneRejected(AppError):
    """The provider refuses this number (malformed, not a mobile, on the do-not-disturb list)."""

    status = 422
    code = "sms_phone_rejected"
    title = "Phone number rejected"


class SmsUnavailable(AppError):
    """The provider cannot send now: outage, or a problem of ours (credentials, template, balance)."""

    status = 503
    code = "sms_unavailable"
    title = "SMS unavailable"


class SmsNotConfiguredError(RuntimeError):
    """Raised at start-up in production when no SMS provider is configured: nobody could sign in."""


class DevelopmentLogSender:
    """Writes the code to the server log, and only because the service runs in development.
    The code never leaves the process over HTTP."""

    def send_login_code(self, phone: str, code: str) -> None:
        log.warning(f"development SMS to {mask_phone(phone)}: your 信易+ sign-in code is {code}")


class NullSender:
    """Staging and test without a provider configured: nothing is sent and nothing is logged but the
    fact that a message was dropped."""

    def send_login_code(self, phone: str, code: str) -> None:
        log.error("sms_gateway_not_configured", phone=mask_phone(phone))


class RecordingSender:
    """For tests: keeps the last code sent to each phone."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def send_login_code(self, phone: str, code: str) -> None:
        self.codes[phone] = code
