from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class CreateScannerDevice(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Which counter, e.g. 前台 1号机.")


class ScannerDeviceOut(BaseModel):
    id: str
    object: Literal["scanner_device"] = "scanner_device"
    name: str
    status: Literal["awaiting_enrolment", "enrolled", "revoked", "enrolment_expired"]
    scopes: list[str]
    scenario: str | None
    created_at: datetime
    enrolment_expires_at: datetime
    enrolled_at: datetime | None
    revoked_at: datetime | None


class IssuedScannerDevice(ScannerDeviceOut):
    enrolment_code: str = Field(
        description="Shown once: type it in at /scan on the device, before it expires."
    )
    enrolment_page: str = Field(description="Where the device enrols: open it on the device.")
    enrolment_qr_svg_data_url: str = Field(
        description="Shown once: the enrolment code as a QR code (`XINYI-ENROL:<code>`), an SVG data URL to "
        "show on the manager's screen; /scan reads it with the device's camera instead of typing the code."
    )


class EnrolIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="The one-time enrolment code.")


class ScannerPartner(BaseModel):
    id: str
    name: str
    kind: str


class ScannerScenario(BaseModel):
    id: str
    name_zh: str
    name_en: str
    low_value: bool
    benefit: dict[str, Any]


class ScannerMe(BaseModel):
    """What the device at the counter needs to know about itself."""

    id: str
    object: Literal["scanner_device"] = "scanner_device"
    name: str
    partner: ScannerPartner
    scopes: list[str]
    can_rent: bool
    scenario: str | None = Field(description="Chosen once on the device; null until then.")
    scenarios: list[ScannerScenario] = Field(description="What this partner's kind may verify.")


class EnrolledScanner(BaseModel):
    credential: str = Field(description="The device's own key, shown once. Keep it on the device only.")
    device: ScannerMe


class ChooseScenario(BaseModel):
    scenario: str = Field(max_length=40)
