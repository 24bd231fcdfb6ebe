from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class QrOut(BaseModel):
    version: int = Field(description="QR version: 10 (57×57 modules) for an online pass.")
    error_correction: Literal["M"] = "M"
    mode: Literal["numeric"] = "numeric"
    mask: int
    text: str = Field(description="The QR content: the token as two digits per character (ord(c) - 45).")
    svg_url: str
    png_url: str
    svg_data_url: str | None = Field(description="The SVG inline, ready for an <img src>.")


class PassOut(BaseModel):
    id: str
    object: Literal["pass"] = "pass"
    kind: Literal["online", "offline"]
    token: str = Field(description="The signed token (a bearer credential: show it, never log it).")
    scenario: str | None = Field(description="Offline codes only: the one scenario it may be used for.")
    not_before: datetime
    expires_at: datetime
    refresh_after: datetime = Field(description="Ask for a new pass from this moment on.")
    expires_in: int = Field(
        description="Seconds from this response to expires_at: a countdown that needs no clock agreement "
        "between the phone and the server."
    )
    qr: QrOut


class PassList(BaseModel):
    object: Literal["list"] = "list"
    data: list[PassOut]
    has_more: bool = False


class OfflineBatchIn(BaseModel):
    scenario: str = Field(max_length=40, description="A low-value scenario (see GET /v1/scenarios).")
    count: int = Field(default=5, ge=1, le=10, description="How many single-use codes, 1-10.")
    hours: int | None = Field(
        default=None, ge=1, le=24, description="Validity of each code; default and maximum: the scenario's."
    )


class OfflineCodeOut(BaseModel):
    id: str
    object: Literal["offline_code"] = "offline_code"
    scenario: str
    not_before: datetime
    expires_at: datetime
    revoked_at: datetime | None
    used_at: datetime | None
    svg_url: str
    png_url: str


class OfflineCodeList(BaseModel):
    object: Literal["list"] = "list"
    data: list[OfflineCodeOut]
    has_more: bool = False


class Revoked(BaseModel):
    revoked: int
