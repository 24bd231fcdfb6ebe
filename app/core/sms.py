"""SMS senders. Production plugs a carrier gateway in here; development logs the message locally."""

from __future__ import annotations

from typing import Protocol

import structlog

from app.core.security import mask_phone

log = structlog.get_logger("app.sms")


class SmsSender(Protocol):
    def send_login_code(self, phone: str, code: str) -> None: ...


class DevelopmentLogSender:
    """Writes the code to the server log, and only because the service runs in development.
    The code never leaves the process over HTTP."""

    def send_login_code(self, phone: str, code: str) -> None:
        log.warning(f"development SMS to {mask_phone(phone)}: your 信易+ sign-in code is {code}")


class NullSender:
    """Outside development without a gateway configured: nothing is sent and nothing is logged but the
    fact that a message was dropped."""

    def send_login_code(self, phone: str, code: str) -> None:
        log.error("sms_gateway_not_configured", phone=mask_phone(phone))


class RecordingSender:
    """For tests: keeps the last code sent to each phone."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def send_login_code(self, phone: str, code: str) -> None:
        self.codes[phone] = code
