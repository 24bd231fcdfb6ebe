"""Merchants and government counters: online verification, offline-use reports, 信易租 rentals, scanner
devices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from xinyi_partner._http import HttpResponse, json_body
from xinyi_partner.calls import Call, ListCall, answer, list_call, new_idempotency_key, unexpected
from xinyi_partner.models import IssuedScannerDevice, ScannerDevice
from xinyi_partner.results import (
    REPORT_STATUSES,
    OfflineReportItem,
    OnlineResult,
    Rental,
    isoformat,
    parse_datetime,
)

VERIFICATIONS_PATH = "/v1/verifications"
OFFLINE_REPORTS_PATH = "/v1/offline/reports"
RENTALS_PATH = "/v1/rentals"
DEVICES = "/v1/partner/scanner-devices"
RentalStatus = Literal["open", "returned", "default_reported", "disputed", "defaulted", "dispute_upheld"]


def verify(token: str, scenario: str, *, idempotency_key: str | None = None) -> Call[OnlineResult]:
    """``POST /v1/verifications``: the platform's decision for ``token`` in ``scenario``.

    Raises :class:`APIError` (its ``code`` says why: replayed, expired, tampered, unknown key, wrong
    scenario, not open to this partner…) or :class:`APIConnectionError`.
    """
    key = idempotency_key or new_idempotency_key()
    body = {"token": token.strip(), "scenario": scenario}
    return Call.post(VERIFICATIONS_PATH, lambda response: _online_result(response, scenario, key), body, key)


def _online_result(response: HttpResponse, scenario: str, idempotency_key: str) -> OnlineResult:
    body = json_body(response)
    if not isinstance(body, dict) or body.get("decision") not in ("eligible", "not_eligible"):
        raise unexpected("The verification answer has no decision.", body, response.status_code)
    reason = body.get("reason")
    if isinstance(reason, dict):  # {"code", "label_zh", "label_en"} shape
        reason = reason.get("code")
    return OnlineResult(
        id=str(body.get("id", "")),
        decision=body["decision"],
        scenario=str(body.get("scenario", scenario)),
        reason=reason if isinstance(reason, str) else None,
        benefit=body.get("benefit"),
        subject=body.get("subject") if isinstance(body.get("subject"), str) else None,
        expires_at=parse_datetime(body.get("expires_at")),
        idempotency_key=idempotency_key,
        replayed=response_header(response, "Idempotent-Replayed") == "true",
        raw=body,
    )


def response_header(response: HttpResponse, name: str) -> str | None:
    value = response.headers.get(name)
    return value if value is not None else response.headers.get(name.lower())


def report_offline_uses(
    uses: Iterable[Any], *, idempotency_key: str | None = None
) -> Call[list[OfflineReportItem]]:
    """``POST /v1/offline/reports`` with ``{"items": [{"token", "scenario", "used_at"}]}`` (at most 100).

    ``uses`` are :class:`OfflineUse` (or mappings with those keys; ``used_at`` epoch seconds or an ISO
    string). Returns the platform's answer per item, in the order sent: ``recorded``, ``flagged``,
    ``duplicate`` or ``rejected`` (with a ``code``) — see :class:`OfflineReportItem`. Raises
    :class:`APIError` (``unexpected_response`` when the answer does not cover every item).
    """
    items = [_report_item(use) for use in uses]
    return Call.post(
        OFFLINE_REPORTS_PATH,
        lambda response: parse_report(json_body(response), len(items), response.status_code),
        {"items": items},
        idempotency_key,
    )


def parse_report(body: Any, expected: int, status: int = 200) -> list[OfflineReportItem]:
    """``{"object": "list", "data": [{"index", "status", "verification_id", "subject", "code", "detail"}]}``
    → one :class:`OfflineReportItem` per item sent, by ``index``."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise unexpected("The offline report answer has no 'data' list.", body, status)
    found: dict[int, OfflineReportItem] = {}
    for entry in data:
        if not isinstance(entry, dict):
            raise unexpected("The offline report answer holds an item that is not an object.", body, status)
        index, item_status = entry.get("index"), entry.get("status")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < expected:
            raise unexpected(
                f"The offline report answer holds an item with a bad index {index!r}.", body, status
            )
        if item_status not in REPORT_STATUSES:
            raise unexpected(
                f"The offline report answer holds an item with an unknown status {item_status!r}.",
                body,
                status,
            )

        def text(name: str, entry: dict[str, Any] = entry) -> str | None:
            value = entry.get(name)
            return value if isinstance(value, str) else None

        found[index] = OfflineReportItem(
            index=index,
            status=item_status,
            verification_id=text("verification_id"),
            subject=text("subject"),
            code=text("code"),
            detail=text("detail"),
        )
    if len(found) != expected:
        raise unexpected(
            f"The offline report answer covers {len(found)} of the {expected} items sent.", body, status
        )
    return [found[i] for i in range(expected)]


def _report_item(use: Any) -> dict[str, Any]:
    if isinstance(use, Mapping):
        token, scenario, used_at = use["token"], use["scenario"], use["used_at"]
    else:
        token, scenario, used_at = use.token, use.scenario, use.used_at
    if isinstance(used_at, int | float) and not isinstance(used_at, bool):
        used_at = isoformat(used_at)
    return {"token": token, "scenario": scenario, "used_at": used_at}


# --- rentals (信易租) ---------------------------------------------------------------------------------------


def _rental(response: HttpResponse) -> Rental:
    body = json_body(response)
    if not isinstance(body, dict) or body.get("object") != "rental":
        raise unexpected("The answer is not a rental.", body, response.status_code)
    return Rental.from_json(body)


def open_rental(
    verification_id: str,
    *,
    item_kind: str,
    deposit_fen: int,
    due_at: datetime | float,
    item_reference: str | None = None,
    idempotency_key: str | None = None,
) -> Call[Rental]:
    """``POST /v1/rentals`` on a ``deposit_free_rental`` verification (eligible or not; single use).
    The platform waives the deposit up to the scenario's cap when eligible and holds the rest on the
    resident's card. A retry (same key, made here unless given) never opens or holds twice.
    Raises :class:`APIError`: ``verification_already_used``, ``verification_expired``,
    ``payment_method_required`` (409), ``card_declined`` (402), …"""
    when = due_at if isinstance(due_at, datetime) else datetime.fromtimestamp(due_at, UTC)
    body = {
        "verification_id": verification_id,
        "item": {"kind": item_kind, "reference": item_reference},
        "deposit_fen": deposit_fen,
        "due_at": when.astimezone(UTC).isoformat(),
    }
    return Call.post(RENTALS_PATH, _rental, body, idempotency_key)


def return_rental(rental_id: str, *, idempotency_key: str | None = None) -> Call[Rental]:
    """``POST /v1/rentals/{id}/return``: closes it and releases any hold. Safe to repeat."""
    return Call.post(f"{RENTALS_PATH}/{rental_id}/return", _rental, None, idempotency_key)


def report_default(
    rental_id: str,
    *,
    description: str,
    photo_urls: Iterable[str] = (),
    amount_fen: int | None = None,
    idempotency_key: str | None = None,
) -> Call[Rental]:
    """``POST /v1/rentals/{id}/default`` for an overdue rental, with evidence. The resident may
    dispute it within the window; nothing is recorded or charged before it ends."""
    body: dict[str, Any] = {"evidence": {"description": description, "photo_urls": list(photo_urls)}}
    if amount_fen is not None:
        body["amount_fen"] = amount_fen
    return Call.post(f"{RENTALS_PATH}/{rental_id}/default", _rental, body, idempotency_key)


def get_rental(rental_id: str) -> Call[Rental]:
    return Call.get(f"{RENTALS_PATH}/{rental_id}", _rental)


def list_rentals(
    *, status: RentalStatus | None = None, limit: int = 100, starting_after: str | None = None
) -> ListCall[Rental]:
    """Your rentals, newest first, every page (``limit`` is the page size)."""
    if not 1 <= limit <= 100:
        raise ValueError("limit is a page size of 1-100")
    return ListCall(RENTALS_PATH, Rental.from_json, {"status": status}, limit, starting_after)


# --- scanner devices ----------------------------------------------------------------------------------------


def create_scanner_device(name: str, *, idempotency_key: str | None = None) -> Call[IssuedScannerDevice]:
    """A device for a counter: its one-time ``enrolment_code`` (shown this once, 24 h) is typed in at
    ``/scan``; the device then holds a key of its own that can only verify (and rent, if yours can)."""
    return Call.post(DEVICES, answer(IssuedScannerDevice), {"name": name}, idempotency_key)


def list_scanner_devices(*, limit: int = 100, starting_after: str | None = None) -> ListCall[ScannerDevice]:
    """Your devices, newest first, revoked ones included."""
    return list_call(DEVICES, ScannerDevice, {}, limit, starting_after)


def revoke_scanner_device(device_id: str, *, idempotency_key: str | None = None) -> Call[ScannerDevice]:
    """The device's next scan is refused. Revoking again changes nothing."""
    return Call.post(f"{DEVICES}/{device_id}/revoke", answer(ScannerDevice), None, idempotency_key)
