"""The partner API client: online verification, offline-use reports, and the seam for later resources.

    with PartnerClient("https://xinyi.example", api_key="xyk_…") as client:
        result = client.verify(token, "deposit_free_rental")

Every POST carries an ``Idempotency-Key`` (made here unless you pass one). Connection errors, timeouts,
5xx, 429 and ``409 idempotency_request_in_progress`` are retried with exponential backoff and jitter
(honouring ``Retry-After``), always with the same key, so a retried verification is never counted twice.
Anything else raises the typed :class:`APIError` at once.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from xinyi_partner._http import DEFAULT_TIMEOUT, Http, HttpClient, HttpResponse, json_body
from xinyi_partner.errors import (
    APIConnectionError,
    APIError,
    ConflictError,
    RateLimitError,
    ServerError,
)
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
_RETRY_STATUSES = {500, 502, 503, 504}


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, ServerError):
        return exc.status in _RETRY_STATUSES
    if isinstance(exc, RateLimitError):
        return True
    return isinstance(exc, ConflictError) and exc.code == "idempotency_request_in_progress"


class _Backoff:
    """Exponential backoff with full jitter, at least the server's ``Retry-After``, at most ``cap``."""

    def __init__(self, initial: float, cap: float, rng: Callable[[], float]) -> None:
        self.initial, self.cap, self.rng = initial, cap, rng

    def __call__(self, state: RetryCallState) -> float:
        ceiling = min(self.cap, self.initial * 2 ** (state.attempt_number - 1))
        wait = ceiling * (0.5 + self.rng() / 2)
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, APIError) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return min(wait, self.cap)


class PartnerClient:
    """Authenticated calls to the partner API with an API key (``xyk_…``).

    ``http`` lets you pass your own client (an ``httpx.Client``, or ``fastapi.testclient.TestClient`` in
    tests); ``sleep`` is what waits between retries (inject a no-op in tests). ``max_attempts`` counts the
    first try.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: HttpClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = 3,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not api_key or not api_key.startswith("xyk_"):
            raise ValueError("api_key must be a partner API key (xyk_…)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._http = Http(base_url, http=http, timeout=timeout)
        self._api_key = api_key
        self.max_attempts = max_attempts
        self._backoff = _Backoff(backoff_initial, backoff_max, rng)
        self._sleep = sleep

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never show the key
        return f"PartnerClient({self.base_url!r}, api_key='{self._api_key[:12]}…')"

    # --- resources -----------------------------------------------------------------------------------

    def verify(self, token: str, scenario: str, *, idempotency_key: str | None = None) -> OnlineResult:
        """``POST /v1/verifications``: the platform's decision for ``token`` in ``scenario``.

        Raises :class:`APIError` (its ``code`` says why: replayed, expired, tampered, unknown key, wrong
        scenario, not open to this partner…) or :class:`APIConnectionError`.
        """
        key = idempotency_key or new_idempotency_key()
        response = self.request(
            "POST",
            VERIFICATIONS_PATH,
            json={"token": token.strip(), "scenario": scenario},
            idempotency_key=key,
        )
        body = json_body(response)
        if not isinstance(body, dict) or body.get("decision") not in ("eligible", "not_eligible"):
            raise APIError(
                "The verification answer has no decision.",
                status=response.status_code,
                code="unexpected_response",
                body=body,
            )
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
            idempotency_key=key,
            replayed=_header(response.headers, "Idempotent-Replayed") == "true",
            raw=body,
        )

    def report_offline_uses(
        self, uses: Iterable[Any], *, idempotency_key: str | None = None
    ) -> list[OfflineReportItem]:
        """``POST /v1/offline/reports`` with ``{"items": [{"token", "scenario", "used_at"}]}`` (at most 100).

        ``uses`` are :class:`OfflineUse` (or mappings with those keys; ``used_at`` epoch seconds or an ISO
        string). Returns the platform's answer per item, in the order sent: ``recorded``, ``flagged``,
        ``duplicate`` or ``rejected`` (with a ``code``) — see :class:`OfflineReportItem`. Raises
        :class:`APIError` (``unexpected_response`` when the answer does not cover every item).
        """
        items = [_report_item(use) for use in uses]
        response = self.request(
            "POST",
            OFFLINE_REPORTS_PATH,
            json={"items": items},
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        return parse_report(json_body(response), len(items), response.status_code)

    # --- rentals (信易租) ---------------------------------------------------------------------------------

    def open_rental(
        self,
        verification_id: str,
        *,
        item_kind: str,
        deposit_fen: int,
        due_at: datetime | float,
        item_reference: str | None = None,
        idempotency_key: str | None = None,
    ) -> Rental:
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
        response = self.request("POST", RENTALS_PATH, json=body, idempotency_key=idempotency_key)
        return _rental(response)

    def return_rental(self, rental_id: str, *, idempotency_key: str | None = None) -> Rental:
        """``POST /v1/rentals/{id}/return``: closes it and releases any hold. Safe to repeat."""
        response = self.request("POST", f"{RENTALS_PATH}/{rental_id}/return", idempotency_key=idempotency_key)
        return _rental(response)

    def report_default(
        self,
        rental_id: str,
        *,
        description: str,
        photo_urls: Iterable[str] = (),
        amount_fen: int | None = None,
        idempotency_key: str | None = None,
    ) -> Rental:
        """``POST /v1/rentals/{id}/default`` for an overdue rental, with evidence. The resident may
        dispute it within the window; nothing is recorded or charged before it ends."""
        body: dict[str, Any] = {"evidence": {"description": description, "photo_urls": list(photo_urls)}}
        if amount_fen is not None:
            body["amount_fen"] = amount_fen
        response = self.request(
            "POST", f"{RENTALS_PATH}/{rental_id}/default", json=body, idempotency_key=idempotency_key
        )
        return _rental(response)

    def get_rental(self, rental_id: str) -> Rental:
        return _rental(self.request("GET", f"{RENTALS_PATH}/{rental_id}"))

    def list_rentals(
        self, *, limit: int = 20, starting_after: str | None = None, status: str | None = None
    ) -> tuple[list[Rental], bool]:
        """One page of your rentals, newest first: ``(rentals, has_more)``."""
        query = {"limit": str(limit)}
        if starting_after:
            query["starting_after"] = starting_after
        if status:
            query["status"] = status
        body = json_body(self.request("GET", f"{RENTALS_PATH}?{urlencode(query)}"))
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise APIError("The rentals answer has no 'data' list.", status=200, code="unexpected_response")
        return [Rental.from_json(item) for item in body["data"]], bool(body.get("has_more"))

    # --- the generic call (issue 5's rentals and later resources build on it) -----------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        idempotency_key: str | None = None,
        retry: bool = True,
    ) -> HttpResponse:
        """One authenticated call with retries. A POST without ``idempotency_key`` gets a fresh one, reused
        for each retry. Raises :class:`APIError` / :class:`APIConnectionError`."""
        headers = {"Authorization": f"Bearer {self._api_key}"}
        if method.upper() == "POST":
            headers["Idempotency-Key"] = idempotency_key or new_idempotency_key()
        elif idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts if retry else 1),
            wait=self._backoff,
            retry=retry_if_exception(is_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._http.send(method, path, body=json, headers=headers)
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True always raises or returns


def _rental(response: HttpResponse) -> Rental:
    body = json_body(response)
    if not isinstance(body, dict) or body.get("object") != "rental":
        raise APIError(
            "The answer is not a rental.", status=response.status_code, code="unexpected_response", body=body
        )
    return Rental.from_json(body)


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value if value is not None else headers.get(name.lower())


def parse_report(body: Any, expected: int, status: int = 200) -> list[OfflineReportItem]:
    """``{"object": "list", "data": [{"index", "status", "verification_id", "subject", "code", "detail"}]}``
    → one :class:`OfflineReportItem` per item sent, by ``index``."""

    def unexpected(why: str) -> APIError:
        return APIError(
            f"The offline report answer {why}.", status=status, code="unexpected_response", body=body
        )

    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise unexpected("has no 'data' list")
    found: dict[int, OfflineReportItem] = {}
    for entry in data:
        if not isinstance(entry, dict):
            raise unexpected("holds an item that is not an object")
        index, item_status = entry.get("index"), entry.get("status")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < expected:
            raise unexpected(f"holds an item with a bad index {index!r}")
        if item_status not in REPORT_STATUSES:
            raise unexpected(f"holds an item with an unknown status {item_status!r}")

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
        raise unexpected(f"covers {len(found)} of the {expected} items sent")
    return [found[i] for i in range(expected)]


def _report_item(use: Any) -> dict[str, Any]:
    if isinstance(use, Mapping):
        token, scenario, used_at = use["token"], use["scenario"], use["used_at"]
    else:
        token, scenario, used_at = use.token, use.scenario, use.used_at
    if isinstance(used_at, int | float) and not isinstance(used_at, bool):
        used_at = isoformat(used_at)
    return {"token": token, "scenario": scenario, "used_at": used_at}
