from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, Field

from app.scenarios.schemas import ItemKind


class ItemIn(BaseModel):
    kind: ItemKind = Field(description="A kind the scenario caps: power_bank, bike, equipment.")
    reference: str | None = Field(default=None, max_length=64, description="Your own id of the item.")


class RentalOpenIn(BaseModel):
    verification_id: str = Field(
        max_length=32, description="The deposit_free_rental verification (eligible or not); single use."
    )
    item: ItemIn
    deposit_fen: int = Field(gt=0, le=100_000_000, description="The item's deposit in fen (99 元 = 9900).")
    due_at: AwareDatetime = Field(description="When the item must be back, with a time zone.")


class EvidenceIn(BaseModel):
    description: str = Field(min_length=1, max_length=2000, description="What happened, for the resident.")
    photo_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=10)


class DefaultIn(BaseModel):
    amount_fen: int | None = Field(
        default=None, gt=0, description="What the default costs you, in fen; at most the deposit (default)."
    )
    evidence: EvidenceIn


class DisputeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ResolutionIn(BaseModel):
    outcome: Literal["upheld", "rejected"] = Field(
        description="upheld: the resident is right, no record and no charge; rejected: the default stands."
    )
    note: str = Field(min_length=1, max_length=2000)


class ItemOut(BaseModel):
    kind: str
    reference: str | None


class DefaultOut(BaseModel):
    reported_at: datetime
    amount_fen: int
    evidence: dict[str, object]
    dispute_window_ends_at: datetime
    disputed_at: datetime | None
    dispute_reason: str | None
    resolution: str | None
    resolved_at: datetime | None
    defaulted_at: datetime | None


class MoneyOut(BaseModel):
    status: str = Field(
        description="held, released, captured; collections: pending, succeeded, action_required…"
    )
    amount_fen: int
    taken_fen: int


class _RentalView(BaseModel):
    """What the merchant's and the resident's view of a rental both show."""

    id: str
    object: Literal["rental"] = "rental"
    status: str
    item: ItemOut
    deposit_fen: int
    credit_amount: int = Field(description="Deposit waived on credit (信用免押), in fen.")
    fund_amount: int = Field(description="Deposit held on the resident's card, in fen.")
    hold: MoneyOut | None
    collection: MoneyOut | None
    opened_at: datetime
    due_at: datetime
    returned_at: datetime | None
    returned_on_time: bool | None
    default: DefaultOut | None


class RentalOut(_RentalView):
    """A rental as the merchant sees it: the resident only by your pairwise pseudonym."""

    verification_id: str
    subject: str


class RentalPartner(BaseModel):
    id: str
    name: str


class MyRentalOut(_RentalView):
    """A rental as the resident sees it."""

    partner: RentalPartner
    record_id: str | None = Field(description="The platform-behaviour record this rental wrote, if any.")
    can_dispute_until: datetime | None = Field(description="Set while you can dispute a reported default.")
