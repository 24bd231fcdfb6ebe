from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.partners.models import PartnerKind, PartnerStatus

Scope = Annotated[str, Field(min_length=1, max_length=64)]


class CreatePartner(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="The organisation's name.")
    kind: PartnerKind = Field(
        description="What the partner does on the platform; decides its allowed scopes."
    )


class PartnerOut(BaseModel):
    id: str
    object: Literal["partner"] = "partner"
    name: str
    kind: PartnerKind
    status: PartnerStatus
    created_by: str
    created_at: datetime
    display_name: str | None = Field(description="The public name residents see; null: not listed.")
    district: str | None
    address: str | None
    offered_scenarios: list[str]


class PartnerProfileIn(BaseModel):
    """Only the fields sent are changed; null clears one."""

    display_name: str | None = Field(default=None, max_length=100, description="Public name; set it to list.")
    district: str | None = Field(default=None, max_length=50, description="e.g. 天山区")
    address: str | None = Field(default=None, max_length=200)
    offered_scenarios: list[Annotated[str, Field(max_length=40)]] | None = Field(
        default=None,
        max_length=20,
        description="Scenarios offered here (ones the partner's kind may verify).",
    )


class PlaceOut(BaseModel):
    """A partner as residents see it."""

    id: str
    object: Literal["place"] = "place"
    display_name: str
    kind: PartnerKind
    district: str | None
    address: str | None
    scenarios: list[str]


class CreateApiKey(BaseModel):
    name: str = Field(default="default", min_length=1, max_length=100, description="What the key is for.")
    scopes: list[Scope] | None = Field(
        default=None,
        max_length=20,
        description="A subset of what the partner's kind allows; leave out for the kind's defaults.",
    )


class ApiKeyOut(BaseModel):
    """An API key as listed: never the secret."""

    id: str
    object: Literal["api_key"] = "api_key"
    partner_id: str
    name: str
    prefix: str = Field(description="The visible start of the key, e.g. xyk_3F9K2M7Q.")
    scopes: list[str]
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="Recorded at most once a minute.")
    revoked_at: datetime | None


class CreatedApiKey(ApiKeyOut):
    secret: str = Field(description="The full key. Shown this once only: store it now.")


class CallerKey(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]


class PartnerMe(BaseModel):
    """Who a partner API key belongs to: the partner and the key itself."""

    id: str
    object: Literal["partner"] = "partner"
    name: str
    kind: PartnerKind
    status: PartnerStatus
    api_key: CallerKey
