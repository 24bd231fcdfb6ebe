from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from app.passes import qr


def _scanned(token: str) -> str:
    """A scanner that posts the QR's content as read (its digit pairs) instead of the token it encodes is
    understood: a token is never digits only (it holds dots), so the digit form is decoded here."""
    if token.isdigit() and len(token) % 2 == 0:
        return qr.from_numeric(token)
    return token


class VerifyIn(BaseModel):
    token: str = Field(
        max_length=4096,
        description="The scanned token: the QR's content as read (its digit pairs), or the token they encode.",
    )
    scenario: str = Field(max_length=40, description="What the pass is shown for (GET /v1/scenarios).")

    _token = field_validator("token")(_scanned)


class ReasonLabels(BaseModel):
    zh: str
    en: str


class VerificationOut(BaseModel):
    """What a partner learns: never the score, level, name or ID number."""

    id: str
    object: Literal["verification"] = "verification"
    decision: Literal["eligible", "not_eligible"]
    reason: str = Field(description="Why, as a stable code.")
    reason_labels: ReasonLabels
    benefit: dict[str, Any] | None = Field(description="What to grant; null when not eligible.")
    subject: str = Field(description="Pairwise pseudonym: stable for your organisation, unique to it.")
    scenario: str
    created_at: datetime
    expires_at: datetime = Field(description="Act on the decision (e.g. open the rental) before this.")


class ScanPartner(BaseModel):
    id: str
    name: str
    kind: str


class ScanScenario(BaseModel):
    id: str
    name_zh: str
    name_en: str


class ScanOut(BaseModel):
    """A scan of one of your passes, as you see it."""

    id: str
    object: Literal["verification"] = "verification"
    created_at: datetime
    mode: Literal["online", "offline"]
    partner: ScanPartner
    scenario: ScanScenario
    decision: Literal["eligible", "not_eligible"]
    reason: str
    reason_labels: ReasonLabels
    benefit: dict[str, Any] | None
    used_at: datetime | None = Field(description="Offline codes: when the partner accepted it.")
    flagged: bool = Field(description="Offline codes: the same code was used more than once.")


class OfflineReportItemIn(BaseModel):
    token: str = Field(max_length=4096, description="The code's token, or the QR's digit pairs as read.")
    scenario: str = Field(max_length=40)
    used_at: AwareDatetime = Field(description="When the code was accepted, with a time zone.")

    _token = field_validator("token")(_scanned)


class OfflineReportIn(BaseModel):
    items: list[OfflineReportItemIn] = Field(min_length=1, max_length=100)


class OfflineReportItemOut(BaseModel):
    index: int = Field(description="Position of the item in the request, from 0.")
    status: Literal["recorded", "flagged", "duplicate", "rejected"]
    verification_id: str | None
    subject: str | None = Field(description="Pairwise pseudonym, as an online check would give.")
    code: str | None = Field(description="Why a rejected item was refused.")
    detail: str | None


class OfflineReportOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[OfflineReportItemOut]


class FlaggedOut(BaseModel):
    """An offline code used more than once (operators)."""

    id: str
    object: Literal["verification"] = "verification"
    mode: str
    pass_id: str
    partner_id: str
    subject_id: str
    scenario: str
    used_at: datetime | None
    created_at: datetime
