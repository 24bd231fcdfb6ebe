"""Typed results of the two checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

OfflineDecision = Literal["accepted", "refused", "online_required"]
OnlineDecision = Literal["eligible", "not_eligible"]
ReportStatus = Literal["recorded", "flagged", "duplicate", "rejected"]
REPORT_STATUSES: frozenset[str] = frozenset({"recorded", "flagged", "duplicate", "rejected"})


@dataclass(frozen=True)
class OfflineResult:
    """What the offline check says about one scanned token.

    - ``accepted``: a valid, unrevoked offline code for this scenario; grant the benefit and record the use
      (:meth:`OfflineQueue.record`) so it is reported when back online;
    - ``refused``: ``code`` says why (``token_expired``, ``token_revoked``…); do not grant;
    - ``online_required``: the token may be fine but cannot be decided offline (an online-only pass, or no
      fresh deny list / key set); verify online, or do without the benefit.
    """

    decision: OfflineDecision
    scenario: str
    code: str | None = None
    message: str = ""
    handle: str | None = None
    kid: str | None = None
    expires_at: int | None = None
    deny_list_version: int | None = None
    deny_list_stale: bool = False

    @property
    def accepted(self) -> bool:
        return self.decision == "accepted"

    @property
    def expires_at_datetime(self) -> datetime | None:
        return None if self.expires_at is None else datetime.fromtimestamp(self.expires_at, UTC)


@dataclass(frozen=True)
class OnlineResult:
    """The platform's decision (``POST /v1/verifications``). No score, level, name or ID number: only the
    decision, its reason code, the benefit, a pseudonym of the subject stable for this partner, the
    verification id and when the decision expires."""

    id: str
    decision: OnlineDecision
    scenario: str
    reason: str | None = None
    benefit: Any = None
    subject: str | None = None
    expires_at: datetime | None = None
    idempotency_key: str | None = None
    replayed: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def eligible(self) -> bool:
        return self.decision == "eligible"


@dataclass(frozen=True)
class OfflineReportItem:
    """The platform's answer for one reported offline use (``POST /v1/offline/reports``).

    - ``recorded``: the first use of the code; the resident sees it, ``verification_id`` names it;
    - ``flagged``: recorded too, but the code had been used before (here or at another partner): both uses
      are flagged for the platform's operators;
    - ``duplicate``: this very use was reported before (a retried flush): nothing changed;
    - ``rejected``: not accepted, ``code`` says why (``token_invalid_signature``,
      ``token_scenario_mismatch``, ``token_online_only``, ``pass_not_found``, ``used_at_in_future``…).
      Sending it again gives the same answer.

    ``subject`` is the pairwise pseudonym an online check would have given.
    """

    index: int
    status: ReportStatus
    verification_id: str | None = None
    subject: str | None = None
    code: str | None = None
    detail: str | None = None

    @property
    def settled(self) -> bool:
        """The platform has its final answer for this use (every status is final)."""
        return self.status in REPORT_STATUSES


@dataclass(frozen=True)
class Rental:
    """A 信易租 rental (``/v1/rentals``). ``credit_amount`` was waived on the resident's credit,
    ``fund_amount`` is held on their card (both in fen); ``subject`` is your pseudonym of the resident."""

    id: str
    status: str
    verification_id: str
    subject: str | None
    item_kind: str
    deposit_fen: int
    credit_amount: int
    fund_amount: int
    hold_status: str | None = None
    due_at: datetime | None = None
    returned_on_time: bool | None = None
    dispute_window_ends_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def deposit_waived(self) -> bool:
        return self.credit_amount > 0

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Rental:
        hold: Mapping[str, Any] | None = body["hold"] if isinstance(body.get("hold"), Mapping) else None
        default: Mapping[str, Any] | None = (
            body["default"] if isinstance(body.get("default"), Mapping) else None
        )
        item: Mapping[str, Any] = body["item"] if isinstance(body.get("item"), Mapping) else {}
        return cls(
            id=str(body["id"]),
            status=str(body["status"]),
            verification_id=str(body.get("verification_id", "")),
            subject=body.get("subject") if isinstance(body.get("subject"), str) else None,
            item_kind=str(item.get("kind", "")),
            deposit_fen=int(body.get("deposit_fen", 0)),
            credit_amount=int(body.get("credit_amount", 0)),
            fund_amount=int(body.get("fund_amount", 0)),
            hold_status=str(hold["status"]) if hold else None,
            due_at=parse_datetime(body.get("due_at")),
            returned_on_time=body.get("returned_on_time"),
            dispute_window_ends_at=parse_datetime(default.get("dispute_window_ends_at")) if default else None,
            raw=body,
        )


def parse_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def isoformat(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
